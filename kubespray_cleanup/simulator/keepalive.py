"""The simulators' HTTP serving: werkzeug's threaded server with a keep-alive handler (its own closes every
connection), on a loopback port.

A client of a real cloud keeps its connections open; one new TCP connection per request would make every
benchmarked client (and the simulator) pay a connect, a handshake and a thread per call. The request body is
read to its end (Content-Length) before the next request on the connection; a chunked request, or a client
that asks for it, still gets ``Connection: close``. ``werkzeug.socket`` stays in the environ (the drop fault).
"""

from __future__ import annotations

import threading
from typing import IO, Any, Self, cast

from werkzeug.exceptions import ClientDisconnected
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wsgi import LimitedStream

_NO_BODY = {204, 304}
IDLE_SECONDS = 60.0  # an idle keep-alive connection is closed after this


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 with persistent connections; no line printed per request."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    disable_nagle_algorithm = True  # else a small answer on a kept connection waits for the client's delayed ACK

    def run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            super().run_wsgi()
            return
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.make_environ()
        body = LimitedStream(cast(IO[bytes], self.rfile), int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = body
        status, headers, payload = self._call_app(environ)
        try:
            body.exhaust()
            self._send(status, headers, payload)
        except (OSError, ClientDisconnected):  # the app cut the connection (drop fault) or the client went away
            self.close_connection = True

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started["status"], started["headers"] = status, headers
            return chunks.append

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception as exc:
            self.server.log("error", f"Error on request: {exc!r}")
            self.close_connection = True
            return "500 Internal Server Error", [("Content-Type", "text/plain")], b"Internal Server Error"
        return str(started.get("status", "500 Internal Server Error")), list(started.get("headers", [])), \
            b"".join(chunks)

    def _send(self, status: str, headers: list[tuple[str, str]], payload: bytes) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        head = self.command == "HEAD"
        for key, value in headers:
            if key.lower() not in ("connection", "transfer-encoding") and (head or key.lower() != "content-length"):
                self.send_header(key, value)
        has_body = not head and code >= 200 and code not in _NO_BODY
        if has_body:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        buffered: list[bytes] = getattr(self, "_headers_buffer", [])
        buffered.append(b"\r\n")  # headers and body in one write: one segment for a small answer
        if has_body:
            buffered.append(payload)
        self.wfile.write(b"".join(buffered))
        buffered.clear()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log_error(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        if not format.startswith("Request timed out"):  # an idle kept connection closed: routine
            super().log_error(format, *args)

    def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
        if type == "error":
            super().log(type, message, *args)


class LoopbackServer:
    """A WSGI app served by werkzeug's threaded server with :class:`KeepAliveHandler`: in a thread (``start`` /
    ``stop``, for tests and benchmarks) or in the foreground (``serve_forever``, ``close``, ``shutdown`` from a
    signal handler)."""

    thread_name = "simulator"

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=KeepAliveHandler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._server.request_queue_size = 128
        self.host, self.port = host, int(self._server.server_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`shutdown`; the socket is closed on the way out."""
        try:
            self._server.serve_forever(poll_interval=0.05)
        finally:
            self._server.server_close()

    def shutdown(self) -> None:
        """Stop :meth:`serve_forever` from another thread (a signal handler starts one for it)."""
        threading.Thread(target=self._server.shutdown, daemon=True).start()

    def close(self) -> None:
        """Release the socket of a server that never served."""
        self._server.server_close()
