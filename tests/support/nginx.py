"""A throwaway nginx for broken edge variants: server blocks in, a running edge out."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import typing as t

from tests.support import procs

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

_MAIN = """
worker_processes 1;
pid %(wd)s/nginx.pid;
error_log %(wd)s/error.log warn;
events { worker_connections 256; }
http {
  access_log %(wd)s/access.log;
  client_body_temp_path %(wd)s/tmp/body;
  proxy_temp_path %(wd)s/tmp/proxy;
  fastcgi_temp_path %(wd)s/tmp/fastcgi;
  uwsgi_temp_path %(wd)s/tmp/uwsgi;
  scgi_temp_path %(wd)s/tmp/scgi;
  default_type text/html;
%(servers)s
}
"""


class NginxServer:
    """nginx running ``servers`` (http-level config text); ready when every ``listen`` (ip, port) accepts."""

    def __init__(self, servers: str, listen: t.Sequence[tuple], workdir: str | None = None) -> None:
        self.servers = servers
        self.listen = list(listen)
        self.workdir = workdir or tempfile.mkdtemp(prefix="nginx-variant-")
        self.server: procs.Server | None = None

    def start(self) -> "NginxServer":
        os.makedirs(os.path.join(self.workdir, "tmp"), exist_ok=True)
        conf = os.path.join(self.workdir, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as fh:
            fh.write(_MAIN % {"wd": self.workdir, "servers": self.servers})
        test = subprocess.run([NGINX, "-t", "-c", conf], capture_output=True, text=True, timeout=20, check=False)
        if test.returncode != 0:
            raise RuntimeError("nginx config invalid:\n%s" % test.stderr)
        self.server = procs.start(
            "nginx-variant", [NGINX, "-c", conf, "-g", "daemon off;"],
            os.path.join(self.workdir, "nginx.log"),
            ready=lambda: all(procs.wait_port(ip, port, timeout=0.2) for ip, port in self.listen),
            timeout=15)
        return self

    def stop(self) -> None:
        if self.server:
            self.server.stop()
            self.server = None
        shutil.rmtree(self.workdir, ignore_errors=True)
