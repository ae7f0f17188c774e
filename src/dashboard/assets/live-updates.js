// Live updates for the approvals and invocation pages (docs/dashboard.md "Live updates").
// The only script the dashboard runs: the page CSP allows exactly this file, by its SHA-256
// (src/dashboard/page-csp.ts), so an injected script cannot run. It opens the events socket
// with the session cookie (GET /api/v1/events, docs/events.md) and, when something the page
// shows changes, inserts a notice with a reload link. Text goes in through textContent only,
// never as HTML. Without it (no JS, socket refused) the page is the same, just not live.
(function () {
  'use strict';
  var region = document.getElementById('live-updates');
  if (!region || typeof WebSocket !== 'function') return;
  var page = region.getAttribute('data-live');
  var invocationId = region.getAttribute('data-invocation') || '';
  var types = page === 'approvals' ? ['approval.pending', 'approval.decided'] : ['invocation.finished', 'approval.decided'];
  var attempts = 0;
  var MAX_ATTEMPTS = 5;

  function show(text) {
    var notice = document.createElement('p');
    notice.className = 'notice ok';
    notice.textContent = text + ' ';
    var reload = document.createElement('a');
    reload.href = location.pathname;
    reload.textContent = 'Reload';
    notice.appendChild(reload);
    region.appendChild(notice);
    region.hidden = false;
  }

  function noticeFor(event) {
    var data = event.data || {};
    if (page === 'approvals' && event.type === 'approval.pending') return 'New approval waiting: ' + String(data.tool) + '.';
    if (page === 'approvals' && event.type === 'approval.decided') return 'An approval was decided (' + String(data.decision) + ').';
    if (page === 'invocation' && data.invocationId === invocationId) {
      if (event.type === 'invocation.finished') return 'This call finished: ' + String(data.status) + '.';
      if (event.type === 'approval.decided') return 'Its approval was decided: ' + String(data.decision) + '.';
    }
    return null;
  }

  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    var socket = new WebSocket(scheme + '//' + location.host + '/api/v1/events');
    socket.addEventListener('open', function () {
      attempts = 0;
      socket.send(JSON.stringify({ type: 'subscribe', types: types }));
    });
    socket.addEventListener('message', function (message) {
      var event;
      try {
        event = JSON.parse(String(message.data));
      } catch {
        return;
      }
      var text = event && typeof event.type === 'string' ? noticeFor(event) : null;
      if (text) show(text);
    });
    // 4001: the connection reached its age limit (docs/events.md); anything else: try a few
    // more times, further apart, then stay quiet (the page itself still works).
    socket.addEventListener('close', function () {
      attempts += 1;
      if (attempts <= MAX_ATTEMPTS) setTimeout(connect, 1000 * attempts * attempts);
    });
  }

  connect();
})();
