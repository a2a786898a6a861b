/** The client library shared by the terminal UI, the CLI commands, the Swarm scenarios and the benchmark. */
export { ChatConnection } from './chat-connection';
export type { ChatConnectionOptions, ChatConnectionEvents, JoinedRoom, MembersChange, RoomClosed } from './chat-connection';
export { RoomMessageBuffer, isChatMessage } from './message-buffer';
export type { GapReport, MessageBufferOptions, AddResult } from './message-buffer';
export { requests, extended } from './requests';
export type { OutgoingRequest, HistoryPage } from './requests';
export { ChatRequestError, ChatTimeoutError, ChatConnectionClosedError } from './errors';
export { normalizeNodeAddress, parseNodeList, AddressError } from './address';
export { ChatSession } from './chat-session';
export type { ChatSessionOptions, ChatSessionEvents, SessionState, SessionStatus } from './chat-session';
