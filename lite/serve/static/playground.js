// lite playground: sends the input to POST /v1/prune as the slider moves, shows what was dropped.
"use strict";

const $ = (id) => document.getElementById(id);
let serial = 0;        // every request gets a number; only the newest one's answer is shown
let timer = null;

function mode() { return $("mode-chat").checked ? "chat" : "text"; }

function setCount(id, value) { $(id).textContent = value === undefined || value === null ? "–" : String(value); }

function showError(message) {
  $("error").hidden = !message;
  $("error").textContent = message || "";
}

function renderPieces(container, pieces) {
  for (const [piece, kept] of pieces) {
    if (kept) container.appendChild(document.createTextNode(piece));
    else {
      const del = document.createElement("del");
      del.textContent = piece;
      container.appendChild(del);
    }
  }
}

function messageText(message) {
  if (typeof message.content === "string") return message.content;
  if (Array.isArray(message.content))
    return message.content.map((p) => (p && p.type === "text" ? p.text : `[${p && p.type}]`)).join("");
  return "";
}

function render(request, answer) {
  const result = $("result");
  result.replaceChildren();
  if (request.text !== undefined) {
    renderPieces(result, answer.pieces);
    $("pruned").textContent = answer.text;
  } else {
    request.messages.forEach((message, i) => {
      const block = document.createElement("div");
      block.className = "message";
      const role = document.createElement("span");
      role.className = "role";
      role.textContent = message.role;
      block.appendChild(role);
      const pieces = answer.pieces && answer.pieces[i];
      if (pieces) renderPieces(block, pieces);
      else {
        const same = document.createElement("span");
        same.className = "untouched";
        same.textContent = messageText(message);
        block.appendChild(same);
      }
      result.appendChild(block);
    });
    $("pruned").textContent = JSON.stringify(answer.messages, null, 2);
  }
  setCount("origin-tokens", answer.origin_tokens);
  setCount("compressed-tokens", answer.compressed_tokens);
  $("kept-share").textContent = answer.origin_tokens
    ? `(${Math.round((100 * answer.compressed_tokens) / answer.origin_tokens)}% kept)` : "";
  setCount("target-origin-tokens", answer.target_origin_tokens);
  setCount("target-compressed-tokens", answer.target_compressed_tokens);
  result.dataset.rate = request.rate.toFixed(2);
}

function buildRequest() {
  const rate = Number($("rate").value);
  const request = { rate, pieces: true, method: $("method").value };
  if (!$("target").hidden && $("target").value) request.target_tokenizer = $("target").value;
  const raw = $("input").value;
  if (mode() === "text") request.text = raw;
  else {
    let parsed;
    try { parsed = JSON.parse(raw); } catch (err) { throw new Error(`the chat is not valid JSON: ${err.message}`); }
    const messages = Array.isArray(parsed) ? parsed : parsed && parsed.messages;
    if (!Array.isArray(messages)) throw new Error("paste a JSON list of messages, or an object with \"messages\"");
    request.messages = messages;
  }
  return request;
}

async function prune() {
  const id = ++serial;
  let request;
  try { request = buildRequest(); } catch (err) { showError(err.message); return; }
  $("status").dataset.state = "busy";
  const headers = { "Content-Type": "application/json" };
  if ($("key").value) headers["X-Lite-Key"] = $("key").value;
  try {
    const response = await fetch("/v1/prune", { method: "POST", headers, body: JSON.stringify(request) });
    const answer = await response.json();
    if (id !== serial) return;  // a newer request is on its way
    if (!response.ok) {
      if (response.status === 401) $("key-row").hidden = false;
      showError(answer.error ? answer.error.message : `error ${response.status}`);
    } else {
      showError("");
      render(request, answer);
    }
  } catch (err) {
    if (id === serial) showError(`cannot reach the server: ${err.message}`);
  } finally {
    if (id === serial) $("status").dataset.state = "idle";
  }
}

function schedule() {
  $("rate-value").textContent = Number($("rate").value).toFixed(2);
  clearTimeout(timer);
  timer = setTimeout(prune, 150);
}

async function setup() {
  try {
    const info = await (await fetch("/healthz")).json();
    $("model").textContent = `${info.model || ""} · lite ${info.version}`;
    for (const name of info.methods) $("method").add(new Option(name, name, false, name === info.method));
    if (info.target_tokenizers.length) {
      for (const name of info.target_tokenizers)
        $("target").add(new Option(name, name, false, name === info.target_tokenizer));
      $("target").hidden = $("target-label").hidden = false;
    }
    if (info.rate) $("rate").value = info.rate;
    $("key-row").hidden = !info.api_key;
  } catch (err) {
    showError(`cannot reach the server: ${err.message}`);
  }
  $("rate-value").textContent = Number($("rate").value).toFixed(2);
  for (const id of ["input", "rate"]) $(id).addEventListener("input", schedule);
  for (const id of ["method", "target", "mode-text", "mode-chat", "key"]) $(id).addEventListener("change", schedule);
  document.body.dataset.ready = "true";
}

setup();
