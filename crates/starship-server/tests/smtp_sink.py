"""A real SMTP server for the dispatcher's tests (aiosmtpd).

Accepts mail on 127.0.0.1:PORT and appends each message, as one JSON line,
to OUT. With --fail-first N it answers the first N messages with a
temporary failure (451), as a busy or greylisting server would.
With --hold-first N --gate FILE it keeps each of the first N messages
waiting, after writing its Message-ID as a line of OUT.held, until FILE
exists: a test decides when such a delivery ends.
"""

import argparse
import asyncio
import json
import os
import signal

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, fail_first, hold_first, gate):
        self.out = out
        self.failures_left = fail_first
        self.holds_left = hold_first
        self.gate = gate

    async def handle_DATA(self, server, session, envelope):
        message = envelope.content.decode("utf8", errors="replace")
        message_id = ""
        for line in message.splitlines():
            if line.lower().startswith("message-id:"):
                message_id = line.split(":", 1)[1].strip()
                break
        if self.holds_left > 0:
            self.holds_left -= 1
            with open(self.out + ".held", "a", encoding="utf8") as f:
                f.write(message_id + "\n")
            while not os.path.exists(self.gate):
                await asyncio.sleep(0.01)
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 Try again later"
        with open(self.out, "a", encoding="utf8") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "message_id": message_id, "data": message}) + "\n")
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--hold-first", type=int, default=0)
    parser.add_argument("--gate", default="")
    args = parser.parse_args()
    sink = Sink(args.out, args.fail_first, args.hold_first, args.gate)
    controller = Controller(sink, hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    loop = asyncio.new_event_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    loop.run_until_complete(stop)
    controller.stop()


if __name__ == "__main__":
    main()
