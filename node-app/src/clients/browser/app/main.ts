/**
 * Entry point of the browser client, bundled by esbuild into the `app.js` every node serves
 * (`../bundle.mjs`, `npm run build`). Wires the page's forms and buttons to the chat page and the
 * socket back to the node that served the page.
 */
import { ChatPage } from './chat-page';
import { $, setConn, toast } from './dom';
import { PageSocket } from './socket';

const NAME_KEY = 'swarm-chat.username';

function start(): void {
  const socket: PageSocket = new PageSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`, {
    connecting: (retries) => setConn('connecting', retries ? `reconnecting (${retries})` : 'connecting'),
    open: (wasRetry) => {
      setConn('ok', location.host);
      page.onOpen();
      if (wasRetry) toast('Reconnected', 'info');
    },
    frame: (frame) => page.handle(frame),
    close: (retrying) => {
      page.onClose();
      setConn('down', retrying ? 'disconnected, retrying' : 'offline: reload the page to retry');
    },
  });
  const page = new ChatPage(localStorage.getItem(NAME_KEY) || '', (request) => socket.send(request));

  $('node-label').textContent = location.host;
  $('name-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $<HTMLInputElement>('username').value.trim();
    if (!name) return;
    page.username = name;
    localStorage.setItem(NAME_KEY, name);
    page.show('rooms');
    page.refresh();
  });
  $('create-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $<HTMLInputElement>('room-name').value.trim();
    if (name) page.createRoom(name, $<HTMLInputElement>('room-desc').value.trim());
  });
  $('send-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $<HTMLInputElement>('message');
    if (!page.room || input.value.trim() === '') return;
    if (page.sendMessage(input.value)) input.value = '';
  });
  $('refresh').addEventListener('click', () => page.refresh());
  for (const scope of ['global', 'local'] as const) {
    $(`scope-${scope}`).addEventListener('click', () => {
      page.scope = scope;
      $('scope-global').setAttribute('aria-pressed', String(scope === 'global'));
      $('scope-local').setAttribute('aria-pressed', String(scope === 'local'));
      page.refresh();
    });
  }
  $('back').addEventListener('click', () => {
    if (page.room) page.leave();
    else page.show('name');
  });
  $('members-toggle').addEventListener('click', () => {
    const open = $('members').classList.toggle('open');
    $('members-toggle').setAttribute('aria-expanded', String(open));
  });
  const confirm = $<HTMLDialogElement>('confirm-delete');
  $('delete').addEventListener('click', () => {
    if (!page.room) return;
    $('confirm-room').textContent = page.room.room_name;
    confirm.showModal();
  });
  confirm.addEventListener('close', () => {
    if (confirm.returnValue === 'delete') page.deleteRoom();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && page.room && !confirm.open) page.leave();
  });
  page.show(page.username ? 'rooms' : 'name');
  socket.connect();
}

document.addEventListener('DOMContentLoaded', start);
