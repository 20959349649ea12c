// A Server-Sent Events parser (the WHATWG rules that matter here): lines end in CR, LF or
// CRLF, a blank line dispatches, `:` starts a comment, one space after the colon is dropped.

export interface SseMessage {
  event: string;
  data: string;
  /** The `id` of this message, or null when it carried none. */
  id: string | null;
}

export class SseParser {
  #buffer = "";
  #event = "";
  #data: string[] = [];
  #id: string | null = null;

  /** The messages completed by this chunk of text. */
  push(chunk: string): SseMessage[] {
    let text = this.#buffer + chunk;
    // A CR at the end may be the first half of a CRLF: keep it for the next chunk.
    const held = text.endsWith("\r") ? "\r" : "";
    if (held) text = text.slice(0, -1);
    const lines = text.split(/\r\n|\r|\n/);
    this.#buffer = (lines.pop() ?? "") + held;
    const messages: SseMessage[] = [];
    for (const line of lines) {
      const message = this.#line(line);
      if (message !== null) messages.push(message);
    }
    return messages;
  }

  #line(line: string): SseMessage | null {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.#event = value;
    else if (field === "data") this.#data.push(value);
    else if (field === "id" && !value.includes("\0")) this.#id = value;
    return null;
  }

  #dispatch(): SseMessage | null {
    const message = { event: this.#event || "message", data: this.#data.join("\n"), id: this.#id };
    const hasData = this.#data.length > 0;
    this.#event = "";
    this.#data = [];
    this.#id = null;
    return hasData ? message : null;
  }
}
