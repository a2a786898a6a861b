/**
 * Ink views of the terminal UI. Plain `React.createElement` (as `h`) instead of JSX: the views are
 * small, and it spares the project a second compiler setting. All state lives in TuiController.
 */
import React, { useEffect, useRef, useState } from 'react';
import { Box, Text, useInput, useStdout } from 'ink';
import TextInput from 'ink-text-input';
import type { RoomSummary } from '../../protocol/messages';
import { clockTime, columns, fitColumns, terminalSafe } from '../core/format';
import type { ChatLine, TuiController, TuiState } from './controller';

const h = React.createElement;

export function App({ controller }: { controller: TuiController }): React.ReactElement {
  const [state, setState] = useState<TuiState>(controller.state);
  useEffect(() => {
    const onChange = (): void => setState(controller.state);
    controller.on('change', onChange);
    return () => {
      controller.off('change', onChange);
    };
  }, [controller]);
  const { stdout } = useStdout();
  const size = { columns: stdout?.columns ?? 80, rows: stdout?.rows ?? 24 };

  let body: React.ReactElement;
  switch (state.screen) {
    case 'connect':
      body = h(ConnectScreen, { controller, state });
      break;
    case 'rooms':
      body = h(RoomListScreen, { controller, state, size });
      break;
    case 'create':
      body = h(CreateRoomScreen, { controller });
      break;
    case 'chat':
      body = h(ChatScreen, { controller, state, size });
      break;
    case 'confirm-delete':
      body = h(ConfirmDeleteScreen, { controller, state });
      break;
    case 'bye':
      // The last frame stays on the terminal after exit: leave a short line, not a stale screen.
      return h(Text, null, 'swarm-chat: disconnected.');
  }
  return h(Box, { flexDirection: 'column', width: size.columns, height: size.rows - 1 }, h(Header, { state }), body, h(StatusLine, { state }));
}

function Header({ state }: { state: TuiState }): React.ReactElement {
  const where = state.status?.state === 'connected' ? `${terminalSafe(state.username)} @ ${state.status.node}` : 'not connected';
  const color = state.status?.state === 'connected' ? 'green' : state.status?.state === 'reconnecting' ? 'yellow' : 'gray';
  return h(Box, { justifyContent: 'space-between' }, h(Text, { bold: true }, 'swarm-chat'), h(Text, { color }, where));
}

function StatusLine({ state }: { state: TuiState }): React.ReactElement {
  if (state.error) return h(Text, { color: 'red', wrap: 'truncate-end' }, `Error: ${terminalSafe(state.error)}`);
  if (state.busy) return h(Text, { color: 'yellow', wrap: 'truncate-end' }, state.busy);
  if (state.status?.state === 'reconnecting' || state.status?.state === 'offline') {
    return h(Text, { color: 'yellow', wrap: 'truncate-end' }, state.status.text);
  }
  if (state.notice) return h(Text, { color: 'cyan', wrap: 'truncate-end' }, terminalSafe(state.notice));
  return h(Text, { dimColor: true }, ' ');
}

// ---------------------------------------------------------------------- connection

/** A bordered form: its title, a blank line, then its rows. */
function formFrame(title: string, ...rows: React.ReactNode[]): React.ReactElement {
  return h(Box, { flexDirection: 'column', borderStyle: 'round', paddingX: 1, flexGrow: 1 }, h(Text, { bold: true }, title), h(Text, null, ' '), ...rows);
}

/** One labelled text field of a form; the label of the focused field is highlighted. */
function formField(
  label: string,
  labelWidth: number,
  focus: boolean,
  input: { value: string; onChange: (v: string) => void; onSubmit: () => void; placeholder: string },
): React.ReactElement {
  return h(Box, null, h(Box, { width: labelWidth }, h(Text, { color: focus ? 'cyan' : undefined }, label)), h(TextInput, { ...input, focus }));
}

function ConnectScreen({ controller, state }: { controller: TuiController; state: TuiState }): React.ReactElement {
  const [field, setField] = useState<'user' | 'nodes'>(state.username ? 'nodes' : 'user');
  useInput((_input, key) => {
    if (key.tab || key.upArrow || key.downArrow) setField((f) => (f === 'user' ? 'nodes' : 'user'));
    if (key.escape) controller.quit();
  });
  const submit = (): void => {
    if (field === 'user' && state.nodesText.trim() === '') setField('nodes');
    else void controller.connect();
  };
  return formFrame(
    'Connect to a chat node',
    formField('Username:', 16, field === 'user', { value: state.username, onChange: (v: string) => controller.setUsername(v), onSubmit: submit, placeholder: 'your name' }),
    formField('Node addresses:', 16, field === 'nodes', { value: state.nodesText, onChange: (v: string) => controller.setNodesText(v), onSubmit: submit, placeholder: 'host:port, host:port, ...' }),
    h(Text, null, ' '),
    h(Text, { dimColor: true }, 'Several addresses: the client moves to the next one if its node goes away.'),
    h(Box, { flexGrow: 1 }),
    h(Text, { dimColor: true }, 'Enter connect · Tab next field · Esc quit · Ctrl-C quit'),
  );
}

// ---------------------------------------------------------------------- room list

const COLS = { name: 22, desc: 28, members: 8, host: 10 };

function RoomListScreen({ controller, state, size }: { controller: TuiController; state: TuiState; size: { rows: number } }): React.ReactElement {
  useInput((input, key) => {
    if (key.upArrow) controller.moveSelection(-1);
    else if (key.downArrow) controller.moveSelection(1);
    else if (key.return) void controller.joinSelected();
    else if (key.escape) void controller.disconnect();
    else if (input === 'r') void controller.refresh('global');
    else if (input === 'l') void controller.refresh('local');
    else if (input === 'c') controller.openCreate();
    else if (input === 'q') controller.quit();
  });
  const visible = Math.max(3, size.rows - 9);
  const first = Math.max(0, Math.min(state.selected - Math.floor(visible / 2), state.rooms.length - visible));
  const rows = state.rooms.slice(first, first + visible);
  const title = state.roomsScope === 'global' ? 'Rooms on all nodes' : 'Rooms on this node only';
  return h(
    Box,
    { flexDirection: 'column', borderStyle: 'round', paddingX: 1, flexGrow: 1 },
    h(Text, { bold: true }, `${title} (${state.rooms.length})`),
    state.unavailableNodes.length > 0 ? h(Text, { color: 'yellow' }, `Unreachable: ${state.unavailableNodes.join(', ')}`) : null,
    h(RoomRow, { header: true }),
    ...rows.map((room, i) => h(RoomRow, { key: room.room_id, room, selected: first + i === state.selected })),
    state.rooms.length === 0 ? h(Text, { dimColor: true }, 'No rooms yet. Press c to create one.') : null,
    h(Box, { flexGrow: 1 }),
    h(Text, { dimColor: true }, '↑↓ select · Enter join · c create · r refresh · l local only · Esc disconnect · q quit'),
  );
}

/** A table cell: `width` columns, one of them a gap to the next cell. */
function cell(text: string, width: number): string {
  return `${fitColumns(terminalSafe(text), width - 1)} `;
}

function RoomRow({ room, selected, header }: { room?: RoomSummary; selected?: boolean; header?: boolean }): React.ReactElement {
  if (header || !room) {
    return h(Text, { bold: true, underline: true }, `${cell('Name', COLS.name)}${cell('Description', COLS.desc)}${cell('Members', COLS.members)}${cell('Host', COLS.host)}`);
  }
  const line = `${cell(room.room_name, COLS.name)}${cell(room.description ?? '', COLS.desc)}${cell(String(room.member_count), COLS.members)}${cell(room.admin_node, COLS.host)}`;
  return h(Text, { inverse: selected, wrap: 'truncate-end' }, line);
}

// ---------------------------------------------------------------------- create

function CreateRoomScreen({ controller }: { controller: TuiController }): React.ReactElement {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [field, setField] = useState<'name' | 'desc'>('name');
  useInput((_input, key) => {
    if (key.tab || key.upArrow || key.downArrow) setField((f) => (f === 'name' ? 'desc' : 'name'));
    if (key.escape) controller.cancelCreate();
  });
  const submit = (): void => void controller.create(name, description);
  return formFrame(
    'Create a room',
    formField('Name:', 14, field === 'name', { value: name, onChange: setName, onSubmit: submit, placeholder: 'room name' }),
    formField('Description:', 14, field === 'desc', { value: description, onChange: setDescription, onSubmit: submit, placeholder: '(optional)' }),
    h(Box, { flexGrow: 1 }),
    h(Text, { dimColor: true }, 'Enter create and join · Tab next field · Esc back'),
  );
}

// ---------------------------------------------------------------------- chat

const SIDEBAR = 22;

function ChatScreen({ controller, state, size }: { controller: TuiController; state: TuiState; size: { columns: number; rows: number } }): React.ReactElement {
  const [draft, setDraft] = useState('');
  const latest = useRef('');
  // Shortcut keys also reach TextInput, which types them (the "x" of Ctrl-X, the "[5~" of
  // PageUp). Ink calls both key handlers in one synchronous dispatch, in an order that changes as
  // effects re-subscribe, so the shortcut handler either drops TextInput's change that follows, or
  // undoes the one that came first. The marks are cleared once the dispatch is over.
  const dispatch = useRef<{ before?: string; swallow?: boolean }>({});
  const endOfDispatch = (): void => queueMicrotask(() => (dispatch.current = {}));
  const onDraft = (v: string): void => {
    if (dispatch.current.swallow) return;
    if (dispatch.current.before === undefined) {
      dispatch.current.before = latest.current;
      endOfDispatch();
    }
    latest.current = v;
    setDraft(v);
  };
  const swallowKey = (): void => {
    if (dispatch.current.before !== undefined) {
      latest.current = dispatch.current.before;
      setDraft(latest.current);
    }
    dispatch.current.swallow = true;
    endOfDispatch();
  };
  // Lines scrolled back from the newest (PageUp/PageDown); 0 = follow new messages.
  const [scroll, setScroll] = useState(0);
  const height = Math.max(3, size.rows - 10);
  useInput((input, key) => {
    if (key.escape) void controller.leave();
    else if (key.pageUp || key.pageDown) {
      swallowKey();
      const step = Math.ceil(height / 2) * (key.pageUp ? 1 : -1);
      setScroll((v) => Math.max(0, Math.min(v + step, state.lines.length - 1)));
    } else if (key.ctrl && input === 'x') {
      swallowKey();
      controller.askDelete();
    }
  });
  const room = state.room;
  if (!room) return h(Text, null, '');
  const width = Math.max(20, size.columns - SIDEBAR - 4);
  // height = rows - 1 (App) - 1 (header) - 1 (room line) - 2 (borders) - 3 (input) - 1 (hints) - 1 (status)
  const end = Math.max(0, state.lines.length - scroll);
  const newer = state.lines.length - end;
  const shown = lastLinesThatFit(state.lines.slice(0, end), width, newer > 0 ? height - 1 : height);
  const canDelete = room.creator_id === state.username;
  const header = `Room: ${terminalSafe(room.room_name)}${room.description ? ` | ${terminalSafe(room.description)}` : ''} | Members: ${room.members.length} | Host: ${room.admin_node}`;
  return h(
    Box,
    { flexDirection: 'column', flexGrow: 1 },
    h(Text, { bold: true, wrap: 'truncate-end' }, header),
    h(
      Box,
      { flexGrow: 1 },
      h(
        Box,
        { flexDirection: 'column', borderStyle: 'round', paddingX: 1, flexGrow: 1 },
        ...shown.map((line) => h(LineView, { key: line.key, line })),
        newer > 0 ? h(Text, { key: 'newer', color: 'yellow' }, `↓ ${newer} newer line(s) · PageDown`) : null,
      ),
      h(
        Box,
        { flexDirection: 'column', borderStyle: 'round', paddingX: 1, width: SIDEBAR },
        h(Text, { bold: true }, `Members (${room.members.length})`),
        ...room.members.slice(0, height).map((m) =>
          h(Text, { key: m, color: m === state.username ? 'green' : undefined, wrap: 'truncate-end' }, `${m === state.username ? '●' : '○'} ${terminalSafe(m)}`),
        ),
      ),
    ),
    h(
      Box,
      { borderStyle: 'round', paddingX: 1 },
      h(Text, { color: 'cyan' }, '> '),
      h(TextInput, {
        value: draft,
        onChange: onDraft,
        onSubmit: (text: string) => {
          latest.current = '';
          setDraft('');
          void controller.send(text);
        },
        placeholder: 'Type a message, Enter to send',
      }),
    ),
    h(Text, { dimColor: true, wrap: 'truncate-end' }, `Enter send · Esc leave room${canDelete ? ' · Ctrl-X delete room' : ''} · PgUp/PgDn scroll · /leave /delete /quit · Ctrl-C quit`),
  );
}

function LineView({ line }: { line: ChatLine }): React.ReactElement {
  if (line.kind === 'system') {
    const color = line.level === 'error' ? 'red' : line.level === 'warn' ? 'yellow' : 'gray';
    return h(Text, { color, italic: true }, `* ${terminalSafe(line.text)}`);
  }
  return h(
    Text,
    null,
    h(Text, { dimColor: true }, `${clockTime(line.timestamp)} `),
    h(Text, { color: line.own ? 'green' : 'cyan', bold: true }, line.own ? 'You' : terminalSafe(line.username)),
    h(Text, null, `: ${terminalSafe(line.content)}`),
  );
}

/** The newest lines that fit `height` rows at `width` columns, counting wrapped lines. */
function lastLinesThatFit(lines: ChatLine[], width: number, height: number): ChatLine[] {
  let rows = 0;
  let i = lines.length;
  while (i > 0) {
    const l = lines[i - 1];
    const len = l.kind === 'system' ? columns(terminalSafe(l.text)) + 2 : 9 + (l.own ? 3 : columns(terminalSafe(l.username))) + 2 + columns(terminalSafe(l.content));
    const need = Math.max(1, Math.ceil(len / width));
    if (rows + need > height) break;
    rows += need;
    i--;
  }
  return lines.slice(i);
}

// ---------------------------------------------------------------------- delete confirmation

function ConfirmDeleteScreen({ controller, state }: { controller: TuiController; state: TuiState }): React.ReactElement {
  useInput((input, key) => {
    if (input === 'y' || input === 'Y') void controller.confirmDelete();
    else if (input === 'n' || input === 'N' || key.escape) controller.cancelDelete();
  });
  const name = terminalSafe(state.room?.room_name ?? '');
  return h(
    Box,
    { flexDirection: 'column', borderStyle: 'double', borderColor: 'red', paddingX: 1, flexGrow: 1 },
    h(Text, { bold: true, color: 'red' }, 'Delete room'),
    h(Text, null, ' '),
    h(Text, null, `Delete '${name}' for everyone? All its messages are lost.`),
    h(Text, null, ' '),
    h(Text, null, h(Text, { bold: true }, 'y'), ' delete   ', h(Text, { bold: true }, 'n'), ' / Esc keep it'),
  );
}
