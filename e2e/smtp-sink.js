// A small SMTP server for the browser tests, so the real dispatcher runs:
// it accepts every message, except that it refuses for good (550) any
// recipient whose address contains "bounce", as a server does for a
// mailbox that does not exist. Prints "ready PORT" once listening.

import { createServer } from "node:net";

const server = createServer((socket) => {
  socket.setEncoding("utf8");
  let buffer = "";
  let inData = false;
  const reply = (line) => socket.write(`${line}\r\n`);
  reply("220 e2e-sink ESMTP");
  socket.on("data", (chunk) => {
    buffer += chunk;
    for (;;) {
      if (inData) {
        const end = buffer.indexOf("\r\n.\r\n");
        if (end < 0) return;
        buffer = buffer.slice(end + 5);
        inData = false;
        reply("250 2.0.0 Accepted");
        continue;
      }
      const eol = buffer.indexOf("\r\n");
      if (eol < 0) return;
      const line = buffer.slice(0, eol);
      buffer = buffer.slice(eol + 2);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === "EHLO") reply("250-e2e-sink\r\n250 8BITMIME");
      else if (verb === "HELO") reply("250 e2e-sink");
      else if (verb === "RCPT") reply(/bounce/i.test(line) ? "550 5.1.1 No such mailbox" : "250 2.1.5 OK");
      else if (verb === "DATA") {
        inData = true;
        reply("354 End data with <CR><LF>.<CR><LF>");
        // A message that begins right away ends with "\r\n.\r\n" as well.
        buffer = "\r\n" + buffer;
      } else if (verb === "QUIT") {
        reply("221 2.0.0 Bye");
        socket.end();
        return;
      } else reply("250 2.0.0 OK");
    }
  });
  socket.on("error", () => {});
});

server.listen(0, "127.0.0.1", () => console.log(`ready ${server.address().port}`));
