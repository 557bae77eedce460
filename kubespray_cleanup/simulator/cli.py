"""``tf-cleanup simulator serve``: run the simulator in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

import click


def serve(host: str, port: int, scenario: str, latency: str, time_scale: float, faults: str | None,
          clouds_yaml: str | None, states_dir: str | None, request_log: str | None,
          rate_limit: str | None = None) -> None:
    from kubespray_cleanup.simulator.scenarios import ScenarioError
    from kubespray_cleanup.simulator.server import SimulatorServer

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.UsageError("the simulator only listens on loopback (127.0.0.1, localhost, ::1)")
    try:
        log_file: IO[str] | None = open(request_log, "a") if request_log else None  # noqa: SIM115 - lives until exit
    except OSError as exc:
        raise click.UsageError(f"cannot open request log {request_log}: {exc.strerror}") from None
    try:
        server = SimulatorServer(scenario, host=host, port=port, latency=latency, time_scale=time_scale,
                                 faults=faults, request_log=log_file, rate_limit=rate_limit)
    except (ScenarioError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    try:
        if clouds_yaml:
            server.write_clouds_yaml(Path(clouds_yaml))
        if states_dir:
            from kubespray_cleanup.simulator.scenarios.kubespray import write_states

            write_states(server.scenario, Path(states_dir))
    except OSError as exc:
        server._server.server_close()
        raise click.UsageError(f"cannot write {exc.filename}: {exc.strerror}") from None
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server._server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    counts = server.store.count()
    click.echo(f"simulator: scenario {server.scenario.name} ({sum(counts.values())} resources, loaded in "
               f"{server.load_seconds:.2f} s) at {server.url}"
               f"{f', clouds.yaml {clouds_yaml}' if clouds_yaml else ''}", err=True)
    sys.stderr.flush()
    server.serve_forever()
    server._server.server_close()
    if log_file is not None:
        log_file.close()
    click.echo("simulator: stopped", err=True)
