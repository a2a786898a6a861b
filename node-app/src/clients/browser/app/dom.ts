/**
 * The page chrome of the browser client: element lookup and creation, the view switch, the toast,
 * the connection badge and time formatting. All user-supplied text goes into the page with
 * textContent, never as HTML.
 */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page element #${id} is missing`);
  return node as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export type View = 'name' | 'rooms' | 'chat';

/** Shows one of the three views; `title` names the page (room name or rooms of a user). */
export function showView(view: View, title: string, username: string): void {
  for (const v of ['name', 'rooms', 'chat'] as const) $(`view-${v}`).hidden = v !== view;
  $('back').hidden = view === 'name';
  $('title').textContent = title;
  document.title = view === 'chat' ? `${title} · swarm-chat` : 'swarm-chat';
  if (view === 'name') $<HTMLInputElement>('username').value = username;
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;

export function toast(text: string, kind?: 'info'): void {
  const t = $('toast');
  t.textContent = text;
  t.className = kind === 'info' ? 'toast info' : 'toast';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 6000);
}

export function setConn(kind: 'ok' | 'down' | 'connecting', text: string): void {
  $('conn').className = `conn ${kind === 'connecting' ? '' : kind}`;
  $('conn-text').textContent = text;
}

export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
