"""An open page that outlives its server: noticed in the browser, redrawn in full.

The guided questions and the full list are fragments: an answer reruns only the
fragment, by its id. After the server restarts, the browser reconnects to a new server
that knows no fragment of the old one and drops every such rerun (it logs "The fragment
with id ... does not exist anymore"), so the tab would keep showing old results and
ignore every answer. This small component, mounted outside every fragment, looks at the
server's health every :data:`LOOK_SECONDS` while the tab is shown; when the server was
unreachable and answers again, it asks for a full rerun (which reads the answers from
the link, so the case is kept). A full rerun always draws this component again, with
the server's boot id: when none comes after :data:`TRIES` asks, each after
:data:`PATIENCE` looks with no run under way (a new server's first run loads the model,
which takes seconds), the page says in plain words to reload it, with a button that does.

Nothing is sent to the server but the rerun request; after a mere network blip the
same server keeps the session, and the full rerun draws the same page.
"""

from __future__ import annotations

import uuid

import streamlit as st

from toe_twitch.ui import keys

#: This server process: a page drawn by another process sees a different id.
BOOT_ID = uuid.uuid4().hex
LOOK_SECONDS = 2.0
#: Idle looks (no run under way, none come) before asking again; asks before the message.
PATIENCE = 3
TRIES = 4
RELOAD_TEXT = "The page lost its connection and could not pick up again by itself."

_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const w = window.__toeTwitchWatch || (window.__toeTwitchWatch = {
    down: false, asked: 0, runs: 0, askedAt: -1,
  });
  w.runs += 1;  // every full run draws the component again
  w.boot = data.boot;
  w.set = setStateValue;
  if (w.asked && w.runs > w.askedAt) {
    w.asked = 0; w.idle = 0; document.getElementById("tt-reload")?.remove();
  }
  if (w.timer) return;
  const ask = () => {
    w.asked += 1; w.askedAt = w.runs;
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
  w.timer = setInterval(async () => {
    if (document.hidden) return;
    let ok = false;
    try { ok = (await fetch(data.health, { cache: "no-store" })).ok; } catch (e) { ok = false; }
    if (!ok) { w.down = true; return; }
    if (w.down) { w.down = false; ask(); return; }
    // A run under way (or the browser still reconnecting) is not an unanswered ask.
    if (document.querySelector('[data-testid="stStatusWidget"]')) return;
    if (w.asked && w.runs === w.askedAt) {
      w.idle = (w.idle || 0) + 1;
      if (w.idle % data.patience === 0) { if (w.asked >= data.tries) tell(); else ask(); }
    }
  }, data.look_ms);
}
"""

_component = st.components.v2.component("toe_twitch_reconnect", js=_JS)


def _reconnected() -> None:
    """Nothing to do here: the full run that follows draws the page again."""


def watch() -> None:
    """Mount the watch (outside every fragment, once per full run)."""
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    _component(
        key=keys.RECONNECT,
        data={
            "boot": BOOT_ID,
            "run": uuid.uuid4().hex,  # new on every full run, so the script sees each one
            "health": f"/{base}/_stcore/health" if base else "/_stcore/health",
            "look_ms": int(LOOK_SECONDS * 1000),
            "tries": TRIES,
            "patience": PATIENCE,
            "text": RELOAD_TEXT,
        },
        height=0,
        on_reconnected_change=_reconnected,
    )
