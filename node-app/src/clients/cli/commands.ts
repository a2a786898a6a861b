/**
 * Non-interactive `chat-client` commands for scripts, demos and tests: each prints plain lines
 * (or JSON lines with --json) on stdout, diagnostics on stderr, and exits with a meaningful code.
 */
import { parseArgs } from 'node:util';
import type { ChatMessage, RoomSummary } from '../../protocol/messages';
import { parseNodeList } from '../core/address';
import { ChatSession } from '../core/chat-session';
import { ChatRequestError } from '../core/errors';
import { clockTime, findRoom, terminalSafe } from '../core/format';
import { describeGap } from '../core/message-buffer';

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export class UsageError extends Error {}

export const DEFAULT_NODES = 'localhost:8081,localhost:8082,localhost:8083';

export const USAGE = `usage:
  chat-client [ui] [--user NAME] [NODE ...]        interactive terminal UI
  chat-client rooms  [--local] [--json]            list rooms (all nodes; --local: this node only)
  chat-client create NAME [--description TEXT]     create a room (prints its id)
  chat-client send   ROOM TEXT                     join ROOM, send one message, leave
  chat-client follow ROOM [--count N] [--timeout S] print ROOM's messages as they arrive
  chat-client delete ROOM                          delete ROOM (creator only)

common options:
  --node, -n NODE[,NODE...]  node addresses, host:port or ws://host:port (default $CHAT_NODES or
                             ${DEFAULT_NODES}); later ones are used if the first fails
  --user, -u NAME            username (default $CHAT_USER or $USER)
  --json                     JSON lines instead of text
ROOM is a room id, a room name, or name@node when several nodes host that name.`;

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM); follow uses it. */
  interrupted: Promise<void>;
}

const OPTIONS = {
  node: { type: 'string', short: 'n', multiple: true },
  user: { type: 'string', short: 'u' },
  json: { type: 'boolean', default: false },
  local: { type: 'boolean', default: false },
  description: { type: 'string', short: 'd' },
  count: { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type ParsedArgs = ReturnType<typeof parse>;

export function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function nodesFrom(values: ParsedArgs['values'], positionals: string[], env: NodeJS.ProcessEnv): string[] {
  const given = [...(values.node ?? []), ...positionals];
  return parseNodeList(given.length > 0 ? given : [env.CHAT_NODES || DEFAULT_NODES]);
}

export function userFrom(values: ParsedArgs['values'], env: NodeJS.ProcessEnv, required: boolean): string {
  const user = (values.user ?? env.CHAT_USER ?? env.USER ?? '').trim();
  if (required && user === '') throw new UsageError('a username is needed: --user NAME');
  return user || 'guest';
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got "${value}"`);
  return n;
}

/** Runs one non-interactive command; returns the process exit code. */
export async function runCommand(command: string, argv: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parse(argv);
  const json = values.json === true;
  const need = (n: number, what: string): string[] => {
    if (positionals.length !== n) throw new UsageError(`${command} needs ${what}, got ${positionals.length} argument(s)`);
    return positionals;
  };
  const nodes = nodesFrom(values, [], io.env);
  const session = new ChatSession({ nodes, username: userFrom(values, io.env, command !== 'rooms'), maxReconnectAttempts: command === 'follow' ? 40 : 0 });
  try {
    await session.connect();
  } catch (err) {
    io.err(`chat-client: ${(err as Error).message}`);
    return EXIT.unreachable;
  }
  try {
    switch (command) {
      case 'rooms':
        need(0, 'no arguments');
        return await rooms(session, values.local === true, json, io);
      case 'create': {
        const [name] = need(1, 'a room NAME');
        const created = await session.createRoom(name, values.description ?? null, { join: false });
        io.out(json ? JSON.stringify(created) : created.room_id);
        return EXIT.ok;
      }
      case 'send': {
        const [ref, text] = need(2, 'ROOM and TEXT');
        const room = await resolveRoom(session, ref);
        await session.joinRoom(room.room_id);
        let sent;
        try {
          sent = await session.sendMessage(room.room_id, text);
        } finally {
          // Leave explicitly even on failure, so the name is free for the next command at once.
          await session.leaveRoom(room.room_id).catch(() => undefined);
        }
        io.out(json ? JSON.stringify(sent) : `sent #${sent.sequence_number} ${sent.message_id}`);
        return EXIT.ok;
      }
      case 'follow': {
        const [ref] = need(1, 'a ROOM');
        const count = positiveInt(values.count, 'count');
        const timeoutS = positiveInt(values.timeout, 'timeout');
        return await follow(session, await resolveRoom(session, ref), { json, count, timeoutMs: timeoutS && timeoutS * 1000 }, io);
      }
      case 'delete': {
        const [ref] = need(1, 'a ROOM');
        const room = await resolveRoom(session, ref);
        // The node lets a connection delete only a room it joined as the creator (names are not
        // authenticated, so that is the only proof it has); join first, as the UIs do.
        await session.joinRoom(room.room_id);
        try {
          await session.deleteRoom(room.room_id);
        } catch (err) {
          await session.leaveRoom(room.room_id).catch(() => undefined);
          throw err;
        }
        io.out(json ? JSON.stringify({ deleted: room.room_id, room_name: room.room_name }) : `deleted ${room.room_name} (${room.room_id})`);
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = err instanceof ChatRequestError ? ` [${err.code}]` : '';
    io.err(`chat-client ${command}: ${(err as Error).message}${code}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

async function rooms(session: ChatSession, local: boolean, json: boolean, io: CommandIO): Promise<number> {
  const list = local ? await session.listRooms() : await session.discoverRooms();
  if (json) {
    io.out(JSON.stringify(list));
    return EXIT.ok;
  }
  for (const r of list.rooms) {
    const desc = r.description ? `  ${terminalSafe(r.description)}` : '';
    io.out(`${r.room_id}  ${terminalSafe(r.room_name)}@${r.admin_node}  members=${r.member_count}${desc}`);
  }
  const unavailable = (list as { nodes_unavailable?: string[] }).nodes_unavailable ?? [];
  if (unavailable.length > 0) io.err(`chat-client: unreachable nodes: ${unavailable.join(', ')}`);
  return EXIT.ok;
}

async function resolveRoom(session: ChatSession, ref: string): Promise<RoomSummary> {
  const list = await session.discoverRooms();
  return findRoom(list.rooms, ref);
}

export function messageLine(m: ChatMessage, self: string): string {
  const who = m.username === self ? `${terminalSafe(m.username)} (you)` : terminalSafe(m.username);
  return `[${clockTime(m.timestamp)}] #${m.sequence_number} ${who}: ${terminalSafe(m.content)}`;
}

async function follow(
  session: ChatSession,
  room: RoomSummary,
  opts: { json: boolean; count?: number; timeoutMs?: number },
  io: CommandIO,
): Promise<number> {
  let printed = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));
  const event = (obj: Record<string, unknown>, text: string): void => {
    if (opts.json) io.out(JSON.stringify(obj));
    else io.err(text);
  };
  session.on('message', (m) => {
    if (m.room_id !== room.room_id) return;
    io.out(opts.json ? JSON.stringify({ event: 'message', ...m }) : messageLine(m, session.username));
    printed++;
    if (opts.count !== undefined && printed >= opts.count) resolveDone(EXIT.ok);
  });
  session.on('gap', (g) => event({ event: 'gap', ...g }, `! ${describeGap(g)}`));
  session.on('members', (c) => {
    if (c.change.kind === 'snapshot') event({ event: 'members', room_id: c.room_id, members: c.members }, `* members: ${c.members.join(', ')}`);
    else event({ event: `member_${c.change.kind}`, room_id: c.room_id, username: c.change.username, reason: c.change.reason, members: c.members },
      `* ${c.change.username} ${c.change.kind}${c.change.reason ? ` (${c.change.reason})` : ''}`);
  });
  session.on('status', (s) => {
    if (s.state !== 'connected' && s.state !== 'closed') event({ event: 'status', state: s.state, node: s.node, text: s.text }, `* ${s.text}`);
    if (s.state === 'offline') resolveDone(EXIT.unreachable);
  });
  session.on('rejoined', (r) => event({ event: 'rejoined', ...r }, `* rejoined ${r.room_name} via ${r.node}`));
  session.on('rejoin_failed', (r) => {
    event({ event: 'rejoin_failed', ...r }, `! could not rejoin ${r.room_name}: ${r.error}`);
    resolveDone(EXIT.failed);
  });
  session.on('room_closed', (c) => {
    event({ event: 'room_closed', ...c }, `* ${c.message}`);
    resolveDone(EXIT.ok);
  });
  await session.joinRoom(room.room_id);
  const timer = opts.timeoutMs
    ? setTimeout(() => {
        if (opts.count !== undefined) io.err(`chat-client follow: timed out after ${opts.timeoutMs! / 1000} s with ${printed} of ${opts.count} messages`);
        resolveDone(opts.count === undefined ? EXIT.ok : EXIT.failed);
      }, opts.timeoutMs)
    : undefined;
  void io.interrupted.then(() => resolveDone(EXIT.ok));
  const code = await done;
  if (timer) clearTimeout(timer);
  if (session.rooms.has(room.room_id)) await session.leaveRoom(room.room_id).catch(() => undefined);
  return code;
}
