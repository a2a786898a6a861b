/**
 * The terminal UI's state and actions, free of any rendering: the Ink views only read `state`
 * and call these methods. Screens follow the original (node-app/PROTOCOL.md §7.3): connection, room list
 * (global or local), create room, chat with a members sidebar, delete confirmation.
 */
import type { ChatMessage, RoomSummary } from '../../protocol/messages';
import { parseNodeList } from '../core/address';
import { ChatSession, SessionStatus } from '../core/chat-session';
import { ChatRequestError } from '../core/errors';
import { describeGap } from '../core/message-buffer';
import { TypedEmitter } from '../core/typed-emitter';

export type Screen = 'connect' | 'rooms' | 'create' | 'chat' | 'confirm-delete' | 'bye';

export type ChatLine =
  | { kind: 'message'; key: string; seq: number; username: string; content: string; timestamp: string; own: boolean }
  | { kind: 'system'; key: string; text: string; level: 'info' | 'warn' | 'error' };

export interface CurrentRoom {
  room_id: string;
  room_name: string;
  description: string | null;
  admin_node: string;
  creator_id?: string;
  members: string[];
}

export interface TuiState {
  screen: Screen;
  username: string;
  nodesText: string;
  status?: SessionStatus;
  /** An action in progress ("Joining lobby ..."); input is still accepted. */
  busy?: string;
  /** The last failure, shown until the next action. */
  error?: string;
  /** The last notable event outside a chat (a room deleted, removed, rejoin failed). */
  notice?: string;
  rooms: RoomSummary[];
  roomsScope: 'global' | 'local';
  unavailableNodes: string[];
  selected: number;
  room?: CurrentRoom;
  lines: ChatLine[];
}

/** Lines kept for the chat view; older ones scroll away for good. */
const MAX_LINES = 500;

export class TuiController extends TypedEmitter<{ change: () => void; quit: () => void }> {
  state: TuiState;
  private session: ChatSession | undefined;
  private lineNo = 0;
  /** The room whose messages the chat view collects, set before the join so its history is kept. */
  private activeRoomId: string | undefined;
  private readonly sessionOptions: { gapWaitMs?: number };

  constructor(init: { username?: string; nodes?: string[]; gapWaitMs?: number } = {}) {
    super();
    this.sessionOptions = { gapWaitMs: init.gapWaitMs };
    this.state = {
      screen: 'connect',
      username: init.username ?? '',
      nodesText: (init.nodes ?? []).join(', '),
      rooms: [],
      roomsScope: 'global',
      unavailableNodes: [],
      selected: 0,
      lines: [],
    };
  }

  // ------------------------------------------------------------------ connect screen

  setUsername(v: string): void {
    this.update({ username: v });
  }

  setNodesText(v: string): void {
    this.update({ nodesText: v });
  }

  async connect(): Promise<void> {
    const username = this.state.username.trim();
    if (username === '') return this.fail('Enter a username first');
    let nodes: string[];
    try {
      nodes = parseNodeList([this.state.nodesText]);
    } catch (err) {
      return this.fail((err as Error).message);
    }
    if (nodes.length === 0) return this.fail('Enter at least one node address (host:port)');
    const session = new ChatSession({ nodes, username, ...this.sessionOptions });
    this.wire(session);
    this.update({ busy: 'Connecting ...', error: undefined, notice: undefined });
    try {
      await session.connect();
    } catch (err) {
      return this.fail((err as Error).message);
    }
    this.session = session;
    this.update({ screen: 'rooms', busy: undefined });
    await this.refresh('global');
  }

  // ------------------------------------------------------------------ room list

  async refresh(scope: 'global' | 'local' = this.state.roomsScope): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.update({ busy: scope === 'global' ? 'Discovering rooms on all nodes ...' : 'Listing local rooms ...', error: undefined });
    try {
      const list = scope === 'global' ? await s.discoverRooms() : await s.listRooms();
      const unavailable = (list as { nodes_unavailable?: string[] }).nodes_unavailable ?? [];
      this.update({
        rooms: list.rooms,
        roomsScope: scope,
        unavailableNodes: unavailable,
        selected: Math.min(this.state.selected, Math.max(0, list.rooms.length - 1)),
        busy: undefined,
      });
    } catch (err) {
      this.fail(describe(err));
    }
  }

  moveSelection(delta: number): void {
    const n = this.state.rooms.length;
    if (n === 0) return;
    this.update({ selected: (this.state.selected + delta + n) % n });
  }

  async joinSelected(): Promise<void> {
    const room = this.state.rooms[this.state.selected];
    if (room) await this.join(room);
  }

  async join(summary: RoomSummary): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.activeRoomId = summary.room_id;
    this.update({ busy: `Joining ${summary.room_name} ...`, error: undefined, notice: undefined, lines: [] });
    try {
      const joined = await s.joinRoom(summary.room_id);
      this.openChat({ ...summary, creator_id: joined.creator_id ?? summary.creator_id }, [...joined.members]);
      // History that arrived with the reply was collected while joining; keep it.
    } catch (err) {
      this.activeRoomId = undefined;
      this.fail(describe(err));
    }
  }

  openCreate(): void {
    this.update({ screen: 'create', error: undefined, notice: undefined });
  }

  async disconnect(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    this.activeRoomId = undefined;
    this.update({ screen: 'connect', rooms: [], room: undefined, lines: [], busy: undefined, status: undefined });
    await s?.close();
  }

  // ------------------------------------------------------------------ create screen

  async create(name: string, description: string): Promise<void> {
    const s = this.session;
    if (!s) return;
    if (name.trim() === '') return this.fail('A room needs a name');
    this.update({ busy: `Creating ${name} ...`, error: undefined, lines: [] });
    try {
      // The creator joins the room at once (the original left that to a second click).
      const created = await s.createRoom(name.trim(), description.trim() || null, { join: false });
      this.activeRoomId = created.room_id;
      await s.joinRoom(created.room_id);
      const joined = s.rooms.get(created.room_id);
      this.openChat(
        {
          room_id: created.room_id,
          room_name: created.room_name,
          description: description.trim() || null,
          admin_node: created.admin_node,
          creator_id: s.username,
        },
        joined ? [...joined.members] : [s.username],
      );
    } catch (err) {
      this.fail(describe(err));
    }
  }

  cancelCreate(): void {
    this.update({ screen: 'rooms', error: undefined });
  }

  // ------------------------------------------------------------------ chat screen

  async send(text: string): Promise<void> {
    const s = this.session;
    const room = this.state.room;
    if (!s || !room) return;
    const trimmed = text.trim();
    if (trimmed === '/leave') return this.leave();
    if (trimmed === '/delete') return this.askDelete();
    if (trimmed === '/quit') return this.quit();
    if (text.trim() === '') return;
    try {
      await s.sendMessage(room.room_id, text);
      if (this.state.error) this.update({ error: undefined });
    } catch (err) {
      this.system(`Not sent: ${describe(err)}`, 'error');
      this.fail(describe(err));
    }
  }

  async leave(): Promise<void> {
    const s = this.session;
    const room = this.state.room;
    this.activeRoomId = undefined;
    this.update({ screen: 'rooms', room: undefined, lines: [] });
    if (s && room) {
      try {
        await s.leaveRoom(room.room_id);
      } catch (err) {
        this.fail(describe(err));
      }
      await this.refresh();
    }
  }

  askDelete(): void {
    const room = this.state.room;
    if (!room) return;
    if (room.creator_id !== undefined && room.creator_id !== this.session?.username) {
      return this.fail(`Only the room's creator (${room.creator_id}) can delete it`);
    }
    this.update({ screen: 'confirm-delete', error: undefined });
  }

  cancelDelete(): void {
    this.update({ screen: 'chat' });
  }

  async confirmDelete(): Promise<void> {
    const s = this.session;
    const room = this.state.room;
    if (!s || !room) return;
    this.update({ screen: 'chat', busy: `Deleting ${room.room_name} ...` });
    try {
      await s.deleteRoom(room.room_id);
      // room_closed (from the node's room_deleted) moves us back to the list; make sure we get there.
      if (this.state.room?.room_id === room.room_id) this.closeRoom(`Room '${room.room_name}' has been deleted`);
      this.update({ busy: undefined });
    } catch (err) {
      this.fail(`Delete failed: ${describe(err)}`);
    }
  }

  quit(): void {
    void this.session?.close();
    this.update({ screen: 'bye' });
    this.emit('quit');
  }

  // ------------------------------------------------------------------ session events

  private wire(session: ChatSession): void {
    session.on('status', (status) => {
      if (this.session !== session && this.session !== undefined) return;
      const wasAway = this.state.status?.state === 'reconnecting';
      this.update({ status });
      if (status.state === 'reconnecting' && this.state.room) this.system(status.text, 'warn');
      // Back on a node while looking at the room list: the list may have changed meanwhile.
      if (status.state === 'connected' && wasAway && this.state.screen === 'rooms') void this.refresh();
      if (status.state === 'offline' && this.session === session) {
        this.update({ error: status.text });
        if (this.state.room) this.system(status.text, 'error');
      }
    });
    session.on('message', (m) => this.onMessage(m));
    session.on('gap', (g) => {
      if (g.room_id !== this.state.room?.room_id) return;
      this.system(describeGap(g), 'warn');
    });
    session.on('members', (c) => {
      const room = this.state.room;
      if (!room || c.room_id !== room.room_id) return;
      this.update({ room: { ...room, members: c.members } });
      if (c.change.kind !== 'snapshot' && c.change.username !== session.username) {
        const reason = c.change.reason ? ` (${c.change.reason})` : '';
        this.system(`${c.change.username} ${c.change.kind === 'joined' ? 'joined' : 'left'}${reason}`, 'info');
      }
    });
    session.on('room_closed', (c) => {
      if (c.room_id === this.state.room?.room_id) this.closeRoom(c.message);
    });
    session.on('rejoined', (r) => {
      if (r.room_id === this.state.room?.room_id) this.system(`Reconnected via ${r.node} and rejoined ${r.room_name}`, 'info');
    });
    session.on('rejoin_failed', (r) => {
      if (r.room_id === this.state.room?.room_id) this.closeRoom(`Could not rejoin ${r.room_name}: ${r.error}`);
    });
    session.on('server_error', (e) => this.fail(`${e.message}${e.code !== 'GENERIC' ? ` [${e.code}]` : ''}`));
    session.on('frame', (f) => {
      if (f.type === 'delete_room_initiated' && f.data.initiator && f.data.room_id === this.state.room?.room_id) {
        this.system(`${f.data.initiator} is deleting this room ...`, 'warn');
      }
      if (f.type === 'delete_room_cancelled' && f.data.room_id === this.state.room?.room_id) {
        this.system('Room deletion was cancelled', 'info');
      }
    });
  }

  private onMessage(m: ChatMessage): void {
    if (m.room_id !== this.activeRoomId) return;
    this.push({
      kind: 'message',
      key: `m${m.room_id}:${m.sequence_number}`,
      seq: m.sequence_number,
      username: m.username,
      content: m.content,
      timestamp: m.timestamp,
      own: m.username === this.session?.username,
    });
  }

  private openChat(room: Omit<CurrentRoom, 'members'>, members: string[]): void {
    // Lines collected while joining (history) belong to this room; other rooms' were never added.
    this.update({ screen: 'chat', room: { ...room, members: [...members].sort((a, b) => a.localeCompare(b)) }, busy: undefined, error: undefined });
  }

  private closeRoom(message: string): void {
    this.activeRoomId = undefined;
    this.update({ screen: 'rooms', room: undefined, lines: [], notice: message, busy: undefined });
    void this.refresh();
  }

  private system(text: string, level: 'info' | 'warn' | 'error'): void {
    this.push({ kind: 'system', key: `s${++this.lineNo}`, text, level });
  }

  private push(line: ChatLine): void {
    // The buffer already drops duplicates; this guards the view against a second source of them.
    if (line.kind === 'message' && this.state.lines.some((l) => l.key === line.key)) return;
    const lines = this.state.lines.length >= MAX_LINES ? this.state.lines.slice(-MAX_LINES + 1) : this.state.lines.slice();
    lines.push(line);
    this.update({ lines });
  }

  private fail(message: string): void {
    this.update({ error: message, busy: undefined });
  }

  private update(patch: Partial<TuiState>): void {
    this.state = { ...this.state, ...patch };
    this.emit('change');
  }
}

function describe(err: unknown): string {
  if (err instanceof ChatRequestError) return `${err.message} [${err.code}]`;
  return (err as Error).message ?? String(err);
}
