// The blog's live page: follows GET /api/posts/events (Server-Sent Events)
// and lists each create, update and delete as it arrives, newest first.
//
// EventSource sends the browser's cookies, so the API sees the admin's
// session. When the connection drops, EventSource reconnects by itself and
// sends the last event's id as Last-Event-ID, so the feed resumes where it
// stopped. When it gives up (an answer other than a stream, such as 401),
// this page opens a new one from the last cursor it saw (`?since=`).
"use strict";

// Keeps the page small when it stays open for days.
const MAX_ITEMS = 200;

const status = document.getElementById("status");
const login = document.getElementById("login");
const list = document.getElementById("events");

let source = null;
let lastCursor = null;
let retry = 1000;

function setStatus(text, error) {
  status.textContent = text;
  status.classList.toggle("error", Boolean(error));
}

// The page's own filters (`?author_id=3`) go to the feed, which accepts the
// list endpoint's filters.
function feedUrl() {
  const query = new URLSearchParams(window.location.search);
  query.delete("since");
  if (lastCursor !== null) query.set("since", lastCursor);
  const text = query.toString();
  return text ? `/api/posts/events?${text}` : "/api/posts/events";
}

// Asks the long-poll endpoint once, without waiting, what an EventSource
// cannot tell: whether the API lets this browser follow posts (401: not
// logged in; 403: not allowed; 422: a bad filter), and the words why not.
async function probe() {
  const query = new URLSearchParams(window.location.search);
  query.delete("since");
  query.set("timeout", "0");
  const response = await fetch(`/api/posts/changes?${query}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (response.ok) return { ok: true };
  let detail = `The feed answered ${response.status}.`;
  try { detail = (await response.json()).detail || detail; } catch (_) { /* keep the default */ }
  return { ok: false, status: response.status, detail: String(detail) };
}

// The logged-in user's name, for the status line ("" when unknown).
async function username() {
  try {
    const response = await fetch("/api/auth/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    return response.ok ? (await response.json()).username : "";
  } catch (_) {
    return "";
  }
}

function addItem(item) {
  list.prepend(item);
  while (list.children.length > MAX_ITEMS) list.lastElementChild.remove();
}

function addNotice(text) {
  const li = document.createElement("li");
  li.className = "notice";
  li.textContent = text;
  addItem(li);
}

function showEvent(event) {
  const data = event.data || {};
  const li = document.createElement("li");
  const action = document.createElement("span");
  action.className = `action ${event.action}`;
  action.textContent = event.action;
  const title = document.createElement("span");
  title.className = "title";
  // Text only: a title is the author's, never markup for this page.
  title.textContent = `#${event.pk} ${data.title ?? ""}`;
  const when = document.createElement("time");
  when.className = "when";
  when.dateTime = event.at;
  when.textContent = new Date(event.at).toLocaleTimeString();
  li.append(action, title, when);
  addItem(li);
}

function onMessage(message) {
  let event;
  try {
    event = JSON.parse(message.data);
  } catch (_) {
    return; // not an event of this feed
  }
  lastCursor = message.lastEventId || event.cursor || lastCursor;
  showEvent(event);
}

// The feed no longer held our cursor: it goes on from the oldest it has,
// and changes in between were lost to this page.
function onReset() {
  addNotice("Some changes happened while this page was away and are no longer in the feed: reload for the current posts.");
}

// The server ends the stream when our access ends (logged out, permission
// revoked); `event: error` carries why. A connection failure is an error
// event too, without data.
function onError(event) {
  if (event.data) {
    let detail = "The feed was closed.";
    try { detail = JSON.parse(event.data).detail || detail; } catch (_) { /* keep the default */ }
    close();
    setStatus(detail, true);
    setTimeout(start, retry);
    retry = Math.min(retry * 2, 30000);
    return;
  }
  if (source && source.readyState === EventSource.CONNECTING) {
    setStatus("Connection lost; reconnecting…", true);
    return;
  }
  // EventSource gave up (the answer was not a stream): find out why.
  close();
  setTimeout(start, retry);
  retry = Math.min(retry * 2, 30000);
}

function close() {
  if (source) source.close();
  source = null;
}

async function start() {
  let answer;
  try {
    answer = await probe();
  } catch (_) {
    setStatus("The server cannot be reached; retrying…", true);
    setTimeout(start, retry);
    retry = Math.min(retry * 2, 30000);
    return;
  }
  if (!answer.ok) {
    login.hidden = answer.status !== 401;
    if (answer.status === 401) setStatus("Not logged in.", true);
    else if (answer.status === 403) setStatus(`Your account may not view posts: ${answer.detail}`, true);
    else if (answer.status >= 500) {
      setStatus("The server could not answer; retrying…", true);
      setTimeout(start, retry);
      retry = Math.min(retry * 2, 30000);
    } else setStatus(answer.detail, true);
    return;
  }
  login.hidden = true;
  const name = await username();
  const who = name ? ` as ${name}` : "";
  setStatus(`Connecting${who}…`);
  source = new EventSource(feedUrl());
  source.onopen = () => {
    retry = 1000;
    setStatus(`Following posts${who}. Changes appear below as they happen.`);
  };
  source.onmessage = onMessage;
  source.addEventListener("reset", onReset);
  source.addEventListener("error", onError);
}

start();
