/*
 * swarm-chat browser client. Served by every node at http://<node>:<ws port>/ and talks back to
 * that same node over WebSocket (protocol.md §2). Plain script, no build step, no dependencies.
 * All user-supplied text goes into the page with textContent, never as HTML.
 */
(() => {
  'use strict';

  const GAP_WAIT_MS = 1500;
  const MAX_LINES = 500;
  const NAME_KEY = 'swarm-chat.username';

  const $ = (id) => document.getElementById(id);
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const state = {
    ws: null,
    connected: false,
    retries: 0,
    username: localStorage.getItem(NAME_KEY) || '',
    scope: 'global',
    rooms: [],
    /** False once the node said it does not know `get_history` (an original Python node). */
    historySupported: true,
    /** room_id -> creator_id learned from room lists and own creations (delete is creator-only). */
    creators: new Map(),
    room: null, // { room_id, room_name, description, admin_node, members: Set, buffer }
    joining: null, // room_id of a join in flight
    /** room_id -> last sequence shown, so a rejoin after reconnecting shows only what was missed. */
    lastSeq: new Map(),
  };

  // ------------------------------------------------------------------ ordering buffer (§7.2, without its bugs)

  /**
   * Delivers messages in sequence order. History may start above 1 (the first message sets the
   * baseline), duplicates are dropped, and a missing number is waited for briefly, then reported
   * once and skipped, so one lost message never freezes the room or floods it with warnings.
   */
  class OrderedBuffer {
    constructor(roomId, resumeAfter, onReady, onGap, onMissing) {
      this.roomId = roomId;
      this.last = resumeAfter;
      this.pending = new Map();
      this.timer = null;
      this.askedThrough = 0;
      this.onReady = onReady;
      this.onGap = onGap;
      this.onMissing = onMissing;
    }
    add(m) {
      if (!m || m.room_id !== this.roomId || !Number.isInteger(m.sequence_number) || m.sequence_number < 1) return;
      const seq = m.sequence_number;
      if (this.last === undefined) this.last = seq - 1;
      if (seq <= this.last || this.pending.has(seq)) return;
      this.pending.set(seq, m);
      const progressed = this.flush();
      if (this.pending.size > 1000) this.skip();
      this.arm(progressed);
    }
    flush() {
      let any = false;
      for (let m = this.pending.get(this.last + 1); m; m = this.pending.get(this.last + 1)) {
        this.pending.delete(this.last + 1);
        this.last += 1;
        this.onReady(m);
        any = true;
      }
      return any;
    }
    skip() {
      if (this.pending.size === 0) return;
      const lowest = Math.min(...this.pending.keys());
      this.onGap(this.last + 1, lowest - 1);
      this.last = lowest - 1;
      this.flush();
    }
    arm(progressed) {
      if (this.pending.size === 0) return this.stop();
      if (this.timer && !progressed) return;
      this.stop();
      const from = Math.max(this.last + 1, this.askedThrough + 1);
      const to = Math.min(...this.pending.keys()) - 1;
      if (to >= from) {
        this.askedThrough = to;
        this.onMissing(from, to);
      }
      this.timer = setTimeout(() => {
        this.timer = null;
        this.skip();
        this.arm(true);
      }, GAP_WAIT_MS);
    }
    stop() {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // ------------------------------------------------------------------ connection

  function connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
    setConn('connecting', state.retries ? `reconnecting (${state.retries})` : 'connecting');
    const ws = new WebSocket(url);
    state.ws = ws;
    ws.addEventListener('open', () => {
      state.connected = true;
      const wasRetry = state.retries > 0;
      state.retries = 0;
      setConn('ok', location.host);
      if (!state.username) return show('name');
      if (state.room) {
        // The node dropped our membership with the socket; join again and resume the order.
        const r = state.room;
        sys(`Reconnected; rejoining ${r.room_name} ...`, 'info');
        join(r.room_id);
      } else {
        show('rooms');
        refresh();
      }
      if (wasRetry) toast('Reconnected', 'info');
    });
    ws.addEventListener('message', (ev) => {
      let frame;
      try {
        frame = JSON.parse(typeof ev.data === 'string' ? ev.data : '');
      } catch {
        return;
      }
      if (frame && typeof frame.type === 'string') handle(frame.type, frame.data || {});
    });
    ws.addEventListener('close', () => {
      if (state.ws !== ws) return;
      state.connected = false;
      state.joining = null;
      if (state.room) {
        state.room.buffer.stop();
        sys('Connection to the node lost; reconnecting ...', 'warn');
      }
      state.retries += 1;
      if (state.retries > 60) {
        setConn('down', 'offline: reload the page to retry');
        return;
      }
      setConn('down', `disconnected, retrying`);
      setTimeout(connect, Math.min(500 * 2 ** (state.retries - 1), 4000));
    });
  }

  function send(type, data) {
    if (!state.connected) {
      toast('Not connected to the node yet');
      return false;
    }
    state.ws.send(JSON.stringify(data === undefined ? { type } : { type, data }));
    return true;
  }

  // ------------------------------------------------------------------ protocol frames

  function handle(type, d) {
    switch (type) {
      case 'rooms_list':
      case 'global_rooms_list':
        return renderRooms(d);
      case 'room_created':
        if (d.success === false) return toast(d.message || 'Could not create the room');
        state.creators.set(d.room_id, state.username);
        $('create-form').reset();
        return join(d.room_id); // the creator joins at once (the original did not)
      case 'join_room_success':
        return openChat(d);
      case 'join_room_error':
        if (state.joining === d.room_id || d.room_id === '') state.joining = null;
        if (state.room && state.room.room_id === d.room_id) {
          // Our node keeps a name bound to the node it joined through until it learns that node is
          // gone, so a quick rejoin is refused for a few seconds: retry for a while before giving up.
          if (d.error_code === 'USERNAME_TAKEN' && (state.room.rejoinTries = (state.room.rejoinTries || 0) + 1) <= 40) {
            const roomId = d.room_id;
            setTimeout(() => state.room && state.room.room_id === roomId && state.connected && join(roomId), 500);
            return;
          }
          closeChat(`Could not rejoin ${state.room.room_name}: ${d.error}`);
        }
        else toast(`Cannot join: ${d.error}`);
        return;
      case 'new_message':
        if (state.room && d.room_id === state.room.room_id) state.room.buffer.add(d);
        return;
      case 'message_error':
        sys(`Not sent: ${d.error}`, 'error');
        return toast(d.error);
      case 'member_joined':
        return memberChange(d, true);
      case 'member_left':
        return memberChange(d, false);
      case 'delete_room_initiated':
        if (d.initiator && state.room && d.room_id === state.room.room_id) sys(`${d.initiator} is deleting this room ...`, 'warn');
        return;
      case 'delete_room_failed':
        return toast(`Delete failed: ${d.reason}`);
      case 'delete_room_cancelled':
        if (state.room && d.room_id === state.room.room_id) sys('Room deletion was cancelled', 'info');
        return;
      case 'room_deleted':
        if (state.room && d.room_id === state.room.room_id) closeChat(d.message || `Room '${d.room_name}' has been deleted`);
        else refresh();
        return;
      case 'history':
        if (state.room && d.room_id === state.room.room_id && Array.isArray(d.messages)) {
          for (const m of d.messages) state.room.buffer.add(m);
        }
        return;
      case 'history_error':
        return; // the gap timer reports what stays missing
      case 'error':
        if (/get_history/.test(d.message || '')) {
          state.historySupported = false;
          return;
        }
        return toast(d.message || 'The node reported an error');
      default:
        return; // message_sent, leave_room_success, delete_room_success: the events above say it all
    }
  }

  // ------------------------------------------------------------------ rooms

  function refresh() {
    send(state.scope === 'global' ? 'discover_rooms' : 'list_rooms');
  }

  function renderRooms(d) {
    state.rooms = Array.isArray(d.rooms) ? d.rooms : [];
    const list = $('room-list');
    list.replaceChildren();
    for (const r of state.rooms) {
      if (r.creator_id) state.creators.set(r.room_id, r.creator_id);
      const b = el('button');
      b.type = 'button';
      b.dataset.roomId = r.room_id;
      b.append(
        el('span', 'room-name', r.room_name),
        el('span', 'room-meta', `${r.member_count} ${r.member_count === 1 ? 'member' : 'members'} · ${r.admin_node}`),
      );
      if (r.description) b.append(el('span', 'room-desc', r.description));
      b.addEventListener('click', () => join(r.room_id));
      const li = el('li');
      li.append(b);
      list.append(li);
    }
    $('rooms-empty').hidden = state.rooms.length > 0;
    const down = Array.isArray(d.nodes_unavailable) ? d.nodes_unavailable : [];
    $('rooms-note').hidden = down.length === 0;
    $('rooms-note').textContent = down.length ? `Unreachable nodes: ${down.join(', ')}` : '';
  }

  function join(roomId) {
    state.joining = roomId;
    const since = state.lastSeq.get(roomId);
    // since_seq is our node's resume extension; an original node ignores the extra field.
    send('join_room', since === undefined ? { room_id: roomId, username: state.username } : { room_id: roomId, username: state.username, since_seq: since });
  }

  // ------------------------------------------------------------------ chat

  function openChat(d) {
    const rejoin = state.room && state.room.room_id === d.room_id;
    if (!rejoin && state.joining !== d.room_id) return;
    state.joining = null;
    if (d.creator_id) state.creators.set(d.room_id, d.creator_id);
    if (!rejoin) {
      $('messages').replaceChildren();
      state.room = { room_id: d.room_id };
    }
    const room = state.room;
    room.room_name = d.room_name;
    room.description = d.description;
    room.admin_node = d.admin_node;
    room.members = new Set(Array.isArray(d.members) ? d.members : []);
    room.buffer = new OrderedBuffer(
      d.room_id,
      state.lastSeq.get(d.room_id),
      showMessage,
      (from, to) => {
        sys(`${to - from + 1} message(s) (#${from}${to > from ? `-#${to}` : ''}) did not arrive and were skipped`, 'warn');
        state.lastSeq.set(d.room_id, to);
      },
      (from, to) => {
        if (state.historySupported) send('get_history', { room_id: d.room_id, after_seq: from - 1, limit: Math.min(to - from + 1, 500) });
      },
    );
    // Our node says where its replay starts; with the original, the first message sets it.
    if (room.buffer.last === undefined) {
      if (Number.isInteger(d.replay_from_seq)) room.buffer.last = d.replay_from_seq - 1;
      else if (Number.isInteger(d.last_seq)) room.buffer.last = d.last_seq;
    }
    if (rejoin) {
      room.rejoinTries = 0;
      sys(`Rejoined ${d.room_name}`, 'info');
    }
    $('chat-room').textContent = d.room_name;
    $('chat-desc').textContent = d.description || '';
    $('delete').hidden = state.creators.get(d.room_id) !== state.username;
    renderMembers();
    show('chat');
    $('message').focus();
  }

  function showMessage(m) {
    state.lastSeq.set(m.room_id, m.sequence_number);
    const own = m.username === state.username;
    const li = el('li', own ? 'msg own' : 'msg');
    li.dataset.seq = String(m.sequence_number);
    const meta = el('div', 'meta');
    meta.append(el('span', 'who', own ? 'You' : m.username), el('time', '', clock(m.timestamp)));
    li.append(meta, el('div', 'text', m.content));
    addLine(li);
  }

  function sys(text, level) {
    if (!state.room) return;
    addLine(el('li', `sys ${level || 'info'}`, text));
  }

  function addLine(li) {
    const box = $('messages');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.append(li);
    while (box.childElementCount > MAX_LINES) box.firstElementChild.remove();
    if (atBottom || li.classList.contains('own')) box.scrollTop = box.scrollHeight;
  }

  function memberChange(d, joined) {
    const room = state.room;
    if (!room || d.room_id !== room.room_id) return;
    if (joined) room.members.add(d.username);
    else room.members.delete(d.username);
    renderMembers();
    if (d.username === state.username) {
      // Only a removal names ourselves: a plain leave unregisters this socket first.
      if (!joined) closeChat(`You were removed from ${room.room_name}${d.reason ? `: ${d.reason}` : ''}`);
      return;
    }
    sys(`${d.username} ${joined ? 'joined' : 'left'}${d.reason ? ` (${d.reason})` : ''}`, 'info');
  }

  function renderMembers() {
    const list = $('member-list');
    list.replaceChildren();
    const names = [...state.room.members].sort((a, b) => a.localeCompare(b));
    for (const name of names) list.append(el('li', name === state.username ? 'me' : '', name === state.username ? `${name} (you)` : name));
    $('member-count').textContent = String(names.length);
  }

  function leave() {
    const room = state.room;
    if (!room) return;
    room.buffer.stop();
    state.room = null;
    state.lastSeq.delete(room.room_id);
    send('leave_room', { room_id: room.room_id, username: state.username });
    show('rooms');
    refresh();
  }

  function closeChat(message) {
    if (state.room) {
      state.room.buffer.stop();
      state.lastSeq.delete(state.room.room_id);
    }
    state.room = null;
    toast(message, 'info');
    show('rooms');
    refresh();
  }

  // ------------------------------------------------------------------ page chrome

  function show(view) {
    for (const v of ['name', 'rooms', 'chat']) $(`view-${v}`).hidden = v !== view;
    $('back').hidden = view === 'name';
    $('title').textContent = view === 'chat' && state.room ? state.room.room_name : view === 'rooms' ? `Rooms · ${state.username}` : 'swarm-chat';
    document.title = view === 'chat' && state.room ? `${state.room.room_name} · swarm-chat` : 'swarm-chat';
    if (view === 'name') $('username').value = state.username;
  }

  let toastTimer = null;
  function toast(text, kind) {
    const t = $('toast');
    t.textContent = text;
    t.className = kind === 'info' ? 'toast info' : 'toast';
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (t.hidden = true), 6000);
  }

  function setConn(kind, text) {
    $('conn').className = `conn ${kind === 'ok' ? 'ok' : kind === 'down' ? 'down' : ''}`;
    $('conn-text').textContent = text;
  }

  function clock(iso) {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  // ------------------------------------------------------------------ wiring

  document.addEventListener('DOMContentLoaded', () => {
    $('node-label').textContent = location.host;
    $('name-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const name = $('username').value.trim();
      if (!name) return;
      state.username = name;
      localStorage.setItem(NAME_KEY, name);
      show('rooms');
      refresh();
    });
    $('create-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const name = $('room-name').value.trim();
      if (!name) return;
      const description = $('room-desc').value.trim();
      send('create_room', { room_name: name, creator_id: state.username, description: description || null });
    });
    $('send-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $('message');
      if (!state.room || input.value.trim() === '') return;
      if (send('send_message', { room_id: state.room.room_id, username: state.username, content: input.value })) input.value = '';
    });
    $('refresh').addEventListener('click', refresh);
    for (const scope of ['global', 'local']) {
      $(`scope-${scope}`).addEventListener('click', () => {
        state.scope = scope;
        $('scope-global').setAttribute('aria-pressed', String(scope === 'global'));
        $('scope-local').setAttribute('aria-pressed', String(scope === 'local'));
        refresh();
      });
    }
    $('back').addEventListener('click', () => {
      if (state.room) leave();
      else show('name');
    });
    $('members-toggle').addEventListener('click', () => {
      const open = $('members').classList.toggle('open');
      $('members-toggle').setAttribute('aria-expanded', String(open));
    });
    $('delete').addEventListener('click', () => {
      if (!state.room) return;
      $('confirm-room').textContent = state.room.room_name;
      $('confirm-delete').showModal();
    });
    $('confirm-delete').addEventListener('close', () => {
      if ($('confirm-delete').returnValue === 'delete' && state.room) {
        send('delete_room', { room_id: state.room.room_id, username: state.username });
      }
    });
    document.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && state.room && !$('confirm-delete').open) leave();
    });
    show(state.username ? 'rooms' : 'name');
    connect();
  });
})();
