/**
 * What the browser client does with the node's frames: the room list, joining (and rejoining
 * after a reconnect, resuming with `since_seq`), the chat view with its member list, and the
 * ordering of messages, which is the Node clients' own RoomMessageBuffer bundled into the page.
 * Requests are built by the shared `core/requests.ts`, so the page sends what the other clients send.
 */
import { LIMITS, type ChatMessage, type GlobalRoomsListReply, type JoinRoomSuccessReply, type RoomsListReply, type ServerFrame } from '../../../protocol/messages';
import { isPassingJoinRefusal } from '../../core/errors';
import { describeGap, RoomMessageBuffer } from '../../core/message-buffer';
import { gapFillPage, requests, type OutgoingRequest } from '../../core/requests';
import { $, clock, el, showView, toast, type View } from './dom';

const MAX_LINES = 500;
/** How often a rejoin refused for a passing reason is retried (see the join_room_error case). */
const MAX_REJOIN_TRIES = 40;

interface OpenRoom {
  room_id: string;
  room_name: string;
  description: string | null;
  admin_node: string;
  members: Set<string>;
  buffer: RoomMessageBuffer;
  rejoinTries: number;
}

export class ChatPage {
  username: string;
  scope: 'global' | 'local' = 'global';
  room: OpenRoom | null = null;
  /** room_id of a join in flight. */
  private joining: string | null = null;
  /** False once the node said it does not know `get_history` (an original Python node). */
  private historySupported = true;
  /** room_id -> creator_id learned from room lists and own creations (delete is creator-only). */
  private readonly creators = new Map<string, string>();
  /** room_id -> last sequence shown, so a rejoin after reconnecting shows only what was missed. */
  private readonly lastSeq = new Map<string, number>();

  constructor(username: string, private readonly send: (request: OutgoingRequest) => boolean) {
    this.username = username;
  }

  // ------------------------------------------------------------------ connection events

  onOpen(): void {
    if (!this.username) return this.show('name');
    if (this.room) {
      // The node dropped our membership with the socket; join again and resume the order.
      this.sys(`Reconnected; rejoining ${this.room.room_name} ...`, 'info');
      this.join(this.room.room_id);
    } else {
      this.show('rooms');
      this.refresh();
    }
  }

  onClose(): void {
    this.joining = null;
    if (this.room) {
      this.room.buffer.dispose();
      this.sys('Connection to the node lost; reconnecting ...', 'warn');
    }
  }

  handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'rooms_list':
      case 'global_rooms_list':
        return this.renderRooms(frame.data);
      case 'room_created': {
        const d = frame.data;
        if ('success' in d && d.success === false) return toast(d.message || 'Could not create the room');
        if (!('room_id' in d)) return;
        this.creators.set(d.room_id, this.username);
        $<HTMLFormElement>('create-form').reset();
        return this.join(d.room_id); // the creator joins at once (the original did not)
      }
      case 'join_room_success':
        return this.openChat(frame.data);
      case 'join_room_error': {
        const d = frame.data;
        const awaited = this.joining === d.room_id;
        if (awaited || d.room_id === '') this.joining = null;
        const room = this.room;
        if (room && room.room_id === d.room_id) {
          // The answer to an attempt a later one overtook: the room is open again, nothing to do.
          if (!awaited) return;
          // A name still bound to the lost node, or a node still catching up, refuses for a few
          // seconds: retry for a while before giving up.
          if (isPassingJoinRefusal(d.error_code) && ++room.rejoinTries <= MAX_REJOIN_TRIES) {
            setTimeout(() => this.room === room && this.join(room.room_id, true), 500);
            return;
          }
          this.closeChat(`Could not rejoin ${room.room_name}: ${d.error}`);
        } else toast(`Cannot join: ${d.error}`);
        return;
      }
      case 'new_message':
        if (this.room && frame.data.room_id === this.room.room_id) this.room.buffer.add(frame.data);
        return;
      case 'message_error':
        this.sys(`Not sent: ${frame.data.error}`, 'error');
        return toast(frame.data.error);
      case 'member_joined':
        return this.memberChange(frame.data, true);
      case 'member_left':
        return this.memberChange(frame.data, false);
      case 'delete_room_initiated':
        if (frame.data.initiator && this.room && frame.data.room_id === this.room.room_id) {
          this.sys(`${frame.data.initiator} is deleting this room ...`, 'warn');
        }
        return;
      case 'delete_room_failed':
        return toast(`Delete failed: ${frame.data.reason}`);
      case 'delete_room_cancelled':
        if (this.room && frame.data.room_id === this.room.room_id) this.sys('Room deletion was cancelled', 'info');
        return;
      case 'room_deleted':
        if (this.room && frame.data.room_id === this.room.room_id) {
          this.closeChat(frame.data.message || `Room '${frame.data.room_name}' has been deleted`);
        } else this.refresh();
        return;
      case 'history':
        if (this.room && frame.data.room_id === this.room.room_id && Array.isArray(frame.data.messages)) {
          if (typeof frame.data.first_seq === 'number') this.room.buffer.historyStartsAt(frame.data.first_seq);
          for (const m of frame.data.messages) this.room.buffer.add(m);
        }
        return;
      case 'history_error':
        return; // the gap timer reports what stays missing
      case 'error':
        if (/get_history/.test(frame.data.message || '')) {
          this.historySupported = false;
          return;
        }
        return toast(frame.data.message || 'The node reported an error');
      default:
        return; // message_sent, leave_room_success, delete_room_success: the events above say it all
    }
  }

  // ------------------------------------------------------------------ rooms

  refresh(): void {
    this.request(this.scope === 'global' ? requests.discoverRooms() : requests.listRooms());
  }

  createRoom(name: string, description: string): void {
    this.request(requests.createRoom(name, this.username, description || null));
  }

  private renderRooms(d: RoomsListReply['data'] | GlobalRoomsListReply['data']): void {
    const rooms = Array.isArray(d.rooms) ? d.rooms : [];
    const list = $('room-list');
    list.replaceChildren();
    for (const r of rooms) {
      if (r.creator_id) this.creators.set(r.room_id, r.creator_id);
      const b = el('button');
      b.type = 'button';
      b.dataset.roomId = r.room_id;
      b.append(
        el('span', 'room-name', r.room_name),
        el('span', 'room-meta', `${r.member_count} ${r.member_count === 1 ? 'member' : 'members'} · ${r.admin_node}`),
      );
      if (r.description) b.append(el('span', 'room-desc', r.description));
      b.addEventListener('click', () => this.join(r.room_id));
      const li = el('li');
      li.append(b);
      list.append(li);
    }
    $('rooms-empty').hidden = rooms.length > 0;
    const down = 'nodes_unavailable' in d && Array.isArray(d.nodes_unavailable) ? d.nodes_unavailable : [];
    $('rooms-note').hidden = down.length === 0;
    $('rooms-note').textContent = down.length ? `Unreachable nodes: ${down.join(', ')}` : '';
  }

  private join(roomId: string, quiet = false): void {
    this.joining = roomId;
    this.request(requests.joinRoom(roomId, this.username, this.lastSeq.get(roomId)), quiet);
  }

  // ------------------------------------------------------------------ chat

  private openChat(d: JoinRoomSuccessReply['data']): void {
    const rejoin = this.room !== null && this.room.room_id === d.room_id;
    if (!rejoin && this.joining !== d.room_id) return;
    this.joining = null;
    if (d.creator_id) this.creators.set(d.room_id, d.creator_id);
    if (!rejoin) $('messages').replaceChildren();
    this.room?.buffer.dispose();
    const buffer = new RoomMessageBuffer({
      roomId: d.room_id,
      resumeAfter: this.lastSeq.get(d.room_id),
      onReady: (messages) => messages.forEach((m) => this.showMessage(m)),
      onGap: (gap) => {
        this.sys(describeGap(gap), 'warn');
        this.lastSeq.set(d.room_id, gap.to);
      },
      onMissing: ({ from, to }) => {
        if (this.historySupported) this.request(requests.getHistory(d.room_id, gapFillPage(from, to, LIMITS.maxHistoryPage)), true);
      },
    });
    this.room = {
      room_id: d.room_id,
      room_name: d.room_name,
      description: d.description,
      admin_node: d.admin_node,
      members: new Set(Array.isArray(d.members) ? d.members : []),
      buffer,
      rejoinTries: 0,
    };
    // Our node says where its replay starts; with the original, the first message sets it.
    if (Number.isInteger(d.replay_from_seq)) buffer.setBaseline((d.replay_from_seq as number) - 1);
    else if (Number.isInteger(d.last_seq)) buffer.setBaseline(d.last_seq as number);
    if (rejoin) this.sys(`Rejoined ${d.room_name}`, 'info');
    $('chat-room').textContent = d.room_name;
    $('chat-desc').textContent = d.description || '';
    $('delete').hidden = this.creators.get(d.room_id) !== this.username;
    this.renderMembers();
    this.show('chat');
    $('message').focus();
  }

  sendMessage(content: string): boolean {
    if (!this.room) return false;
    return this.request(requests.sendMessage(this.room.room_id, this.username, content));
  }

  deleteRoom(): void {
    if (this.room) this.request(requests.deleteRoom(this.room.room_id, this.username));
  }

  leave(): void {
    const room = this.room;
    if (!room) return;
    room.buffer.dispose();
    this.room = null;
    this.lastSeq.delete(room.room_id);
    this.request(requests.leaveRoom(room.room_id, this.username));
    this.show('rooms');
    this.refresh();
  }

  private showMessage(m: ChatMessage): void {
    this.lastSeq.set(m.room_id, m.sequence_number);
    const own = m.username === this.username;
    const li = el('li', own ? 'msg own' : 'msg');
    li.dataset.seq = String(m.sequence_number);
    const meta = el('div', 'meta');
    meta.append(el('span', 'who', own ? 'You' : m.username), el('time', '', clock(m.timestamp)));
    li.append(meta, el('div', 'text', m.content));
    this.addLine(li);
  }

  private sys(text: string, level: 'info' | 'warn' | 'error'): void {
    if (!this.room) return;
    this.addLine(el('li', `sys ${level}`, text));
  }

  private addLine(li: HTMLElement): void {
    const box = $('messages');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.append(li);
    while (box.childElementCount > MAX_LINES) box.firstElementChild?.remove();
    if (atBottom || li.classList.contains('own')) box.scrollTop = box.scrollHeight;
  }

  private memberChange(d: { room_id: string; username: string; reason?: string }, joined: boolean): void {
    const room = this.room;
    if (!room || d.room_id !== room.room_id) return;
    if (joined) room.members.add(d.username);
    else room.members.delete(d.username);
    this.renderMembers();
    if (d.username === this.username) {
      // Only a removal names ourselves: a plain leave unregisters this socket first.
      if (!joined) this.closeChat(`You were removed from ${room.room_name}${d.reason ? `: ${d.reason}` : ''}`);
      return;
    }
    this.sys(`${d.username} ${joined ? 'joined' : 'left'}${d.reason ? ` (${d.reason})` : ''}`, 'info');
  }

  private renderMembers(): void {
    if (!this.room) return;
    const list = $('member-list');
    list.replaceChildren();
    const names = [...this.room.members].sort((a, b) => a.localeCompare(b));
    for (const name of names) list.append(el('li', name === this.username ? 'me' : '', name === this.username ? `${name} (you)` : name));
    $('member-count').textContent = String(names.length);
  }

  private closeChat(message: string): void {
    if (this.room) {
      this.room.buffer.dispose();
      this.lastSeq.delete(this.room.room_id);
    }
    this.room = null;
    toast(message, 'info');
    this.show('rooms');
    this.refresh();
  }

  show(view: View): void {
    const title = view === 'chat' && this.room ? this.room.room_name : view === 'rooms' ? `Rooms · ${this.username}` : 'swarm-chat';
    showView(view, title, this.username);
  }

  /** Sends a request; says so when the socket is down, unless the request is background work. */
  private request(request: OutgoingRequest, quiet = false): boolean {
    const sent = this.send(request);
    if (!sent && !quiet) toast('Not connected to the node yet');
    return sent;
  }
}
