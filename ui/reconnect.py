"""An open page that outlives its server: noticed in the browser, redrawn in full.

The guided questions and the full list are fragments: an answer reruns only the
fragment, by its id. After the server restarts, the browser reconnects to a new server
that knows no fragment of the old one and drops every such rerun (it logs "The fragment
with id ... does not exist anymore"), so the tab would keep showing old results and
ignore every answer. This small component, mounted outside every fragment, notices each
time the browser opens a new connection to the server (it wraps the browser's
``WebSocket``; no polling) and then asks for a full rerun, which reads the answers from
the link, so the case is kept. A full rerun always draws this component again, with the
server's boot id; while none comes (a new server's first run loads the model, which
takes seconds), it asks again after :data:`PATIENCE` looks with no run under way, and
after :data:`TRIES` asks the page says in plain words to reload it, with a button that
does. After a mere network blip the same server keeps the session, and the full rerun
draws the same page.
"""

from __future__ import annotations

import uuid

import streamlit as st

from toe_twitch.ui import keys

#: This server process: a page drawn by another process sees a different id.
BOOT_ID = uuid.uuid4().hex
LOOK_SECONDS = 2.0
#: After the browser reconnects, the pause before asking for a full run (seconds).
SETTLE_SECONDS = 0.5
#: Idle looks (no run under way, none come) before asking again; asks before the message.
PATIENCE = 3
TRIES = 4
RELOAD_TEXT = "The page lost its connection and could not pick up again by itself."

_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const w = window.__toeTwitchWatch || (window.__toeTwitchWatch = {
    asked: 0, runs: 0, askedAt: -1, idle: 0, sockets: 0,
  });
  w.runs += 1;  // every full run draws the component again
  w.boot = data.boot;
  w.set = setStateValue;
  if (w.asked && w.runs > w.askedAt) {
    w.asked = 0; w.idle = 0; document.getElementById("tt-reload")?.remove();
  }
  if (w.timer) return;
  const ask = () => {
    w.asked += 1; w.askedAt = w.runs; w.idle = 0;
    w.set("reconnected", Date.now());
  };
  const tell = () => {
    if (document.getElementById("tt-reload")) return;
    const box = document.createElement("div");
    box.id = "tt-reload"; box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:1000100;" +
      "background:#7f1d1d;color:#fff;padding:12px 16px;font:16px sans-serif;";
    box.textContent = data.text + " ";
    const b = document.createElement("button");
    b.textContent = "Reload the page";
    b.style.cssText = "min-height:44px;margin-left:8px;font:inherit;color:#7f1d1d;" +
      "background:#fff;border:0;border-radius:6px;padding:0 12px;";
    b.onclick = () => window.location.reload();
    box.appendChild(b);
    document.body.appendChild(box);
  };
  // The page's connection is open when this first runs: every connection opened after
  // it is the browser reconnecting (to the same server after a blip, or a new one).
  const Native = window.WebSocket;
  function Watched(...args) {
    const socket = new Native(...args);
    socket.addEventListener("open", () => { w.sockets += 1; setTimeout(ask, data.settle_ms); });
    return socket;
  }
  Watched.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Watched[name] = Native[name];
  window.WebSocket = Watched;
  // An ask can be lost while the browser is still reconnecting: ask again after a few
  // looks with no run under way and none come, and after a few asks say to reload.
  w.timer = setInterval(() => {
    if (!w.asked || w.runs !== w.askedAt || document.hidden) return;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return;
    w.idle += 1;
    if (w.idle >= data.patience) { if (w.asked >= data.tries) tell(); else ask(); }
  }, data.look_ms);
}
"""

_component = st.components.v2.component("toe_twitch_reconnect", js=_JS)


def _reconnected() -> None:
    """Nothing to do here: the full run that follows draws the page again."""


def watch() -> None:
    """Mount the watch (outside every fragment, once per full run)."""
    _component(
        key=keys.RECONNECT,
        data={
            "boot": BOOT_ID,
            "run": uuid.uuid4().hex,  # new on every full run, so the script sees each one
            "settle_ms": int(SETTLE_SECONDS * 1000),
            "look_ms": int(LOOK_SECONDS * 1000),
            "tries": TRIES,
            "patience": PATIENCE,
            "text": RELOAD_TEXT,
        },
        height=0,
        on_reconnected_change=_reconnected,
    )
