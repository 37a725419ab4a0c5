// The page's one script. Live updates: it long-polls /live (the events of the
// threads shown) and, when something happened, fetches the page again and swaps its
// content in place (the reply box, and what is typed there, stay). What you have
// seen: a thread page remembers (in this browser's localStorage) how many entries
// you saw, and the list marks threads that have more since. Keys: j/k move between
// entries (or threads), r goes to the reply box.
(() => {
  'use strict';
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let live = document.body.dataset.live;

  function focusOn(el) {
    const target = el.matches('.row') ? el.querySelector('a') : el;
    target.focus({ preventScroll: true });
    el.scrollIntoView({ block: 'nearest' });
  }

  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const t = ev.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) return;
    if (ev.key === 'j' || ev.key === 'k') {
      const items = [...document.querySelectorAll('.entry, .rows .row')];
      if (!items.length) return;
      const at = items.indexOf(document.activeElement?.closest('.entry, .row'));
      const step = ev.key === 'j' ? 1 : -1;
      const next = at < 0 ? (step > 0 ? 0 : items.length - 1) : Math.min(Math.max(at + step, 0), items.length - 1);
      focusOn(items[next]);
      ev.preventDefault();
    } else if (ev.key === 'r') {
      const box = document.querySelector('#reply textarea');
      if (box) {
        box.focus();
        ev.preventDefault();
      }
    }
  });

  // Fetches this page again and puts its fresh content in place. A redirect means
  // the session needs renewing (or a new sign-in): the browser does that on a reload.
  async function refresh() {
    let r;
    try {
      r = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' }, redirect: 'manual' });
    } catch {
      return;
    }
    if (r.type === 'opaqueredirect' || r.status === 401) return location.reload();
    if (!r.ok) return;
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    const fresh = doc.getElementById('content');
    const here = document.getElementById('content');
    if (!fresh || !here) return;
    for (const d of here.querySelectorAll('details[id]')) {
      if (d.open) fresh.querySelector(`details#${CSS.escape(d.id)}`)?.setAttribute('open', '');
    }
    here.replaceWith(fresh);
    looked();
    document.body.dataset.updated = String(Number(document.body.dataset.updated || 0) + 1);
  }

  // This browser's memory of how many entries of each thread were seen.
  const seenKey = (topic) => `watercooler:seen:${document.body.dataset.repo}:${topic}`;
  function noteSeen() {
    const content = document.getElementById('content');
    const topic = content?.dataset.topic;
    if (!topic) return;
    try {
      localStorage.setItem(seenKey(topic), content.dataset.entries);
    } catch {}
  }
  function markNew() {
    for (const row of document.querySelectorAll('.row[data-topic]')) {
      let seen = null;
      try {
        seen = localStorage.getItem(seenKey(row.dataset.topic));
      } catch {}
      const fresh = Number(row.dataset.entries) - Number(seen);
      row.querySelector('.badge.new')?.remove();
      if (seen === null || !(fresh > 0)) continue;
      const badge = document.createElement('span');
      badge.className = 'badge new';
      badge.textContent = `${fresh} new since you looked`;
      row.querySelector('.topic').after(badge);
    }
  }
  function looked() {
    noteSeen();
    markNew();
  }

  async function follow() {
    let backoff = 1000;
    while (live) {
      let r;
      try {
        r = await fetch(live, { credentials: 'same-origin' });
      } catch {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30000);
        continue;
      }
      if (r.status === 401) return location.reload();
      const got = await r.json().catch(() => ({}));
      if (r.status === 410 && got.error?.cursor) {
        // Fell behind the events kept: start again from now, with a fresh page.
        live = withCursor(live, got.error.cursor);
        await refresh().catch(() => {});
        continue;
      }
      if (!r.ok || typeof got.cursor !== 'string') {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 30000);
        continue;
      }
      backoff = 1000;
      live = withCursor(live, got.cursor);
      if (got.events.length) await refresh().catch(() => {});
    }
  }

  function withCursor(url, cursor) {
    const u = new URL(url, location.href);
    u.searchParams.set('since', cursor);
    return u.pathname + u.search;
  }

  looked();
  follow();
})();
