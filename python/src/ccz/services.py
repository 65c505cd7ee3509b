# SPDX-License-Identifier: Apache-2.0
"""ccz's services in this process (ccz_svc_*): the attestation service ("attestation": EAR
tokens, policies, Trustee's KBS protocol, secret provisioning) and the KMS ("kms"), configured by
the same options as ``ccz attestation serve`` and ``ccz kms serve`` (docs/services.md,
docs/kms.md), serving on a thread of their own until stopped.

    with services.Service("attestation", listen="127.0.0.1:0", data_dir="state",
                          sim_dir="plat", policy="policy.json") as svc:
        print(svc.port)
"""
from __future__ import annotations

from ctypes import POINTER, byref, c_bool, c_char_p, c_int, c_uint, c_void_p
from typing import Any, Dict, Iterable, Union

from . import _lib
from ._lib import check, lib

__all__ = ["Service"]

_PROTOS = {
    "ccz_svc_config_new": (c_int, [POINTER(c_void_p), c_char_p]),
    "ccz_svc_config_free": (None, [c_void_p]),
    "ccz_svc_config_load_file": (c_int, [c_void_p, c_char_p]),
    "ccz_svc_config_set": (c_int, [c_void_p, c_char_p, c_char_p]),
    "ccz_svc_config_to_json": (c_void_p, [c_void_p]),
    "ccz_svc_start": (c_int, [POINTER(c_void_p), c_void_p, c_bool]),
    "ccz_svc_port": (c_int, [c_void_p]),
    "ccz_svc_wait": (c_int, [c_void_p]),
    "ccz_svc_stop": (None, [c_void_p, c_uint]),
    "ccz_svc_free": (None, [c_void_p]),
}
for _n, (_r, _a) in _PROTOS.items():
    getattr(lib, _n).restype, getattr(lib, _n).argtypes = _r, _a


class Service:
    """A running service.

    Args:
      name: "attestation" or "kms".
      config: a JSON configuration file (as --config), read first.
      **options: the service's options, named as its flags (``data_dir`` or ``data-dir``):
        strings, ints, booleans (True: the bare flag) or, for repeatable ones (``secret``,
        ``sim_root``), lists.
    """

    def __init__(self, name: str, config: Union[str, None] = None, **options: Any) -> None:
        self._svc = None
        cfg = c_void_p()
        check(lib.ccz_svc_config_new(byref(cfg), _lib.cstr(name)), "service %s" % name)
        try:
            if config is not None:
                check(lib.ccz_svc_config_load_file(cfg, _lib.cstr(config)), "config")
            for key, value in options.items():
                flag = key.replace("_", "-").encode()
                values: Iterable = value if isinstance(value, (list, tuple)) else [value]
                for v in values:
                    if v is False or v is None:
                        continue
                    text = None if v is True else _lib.cstr(v if not isinstance(v, int)
                                                            else str(v))
                    check(lib.ccz_svc_config_set(cfg, flag, text), "--%s" % flag.decode())
            self.config: Dict[str, Any] = _lib.json_take(lib.ccz_svc_config_to_json(cfg))
            svc = c_void_p()
            check(lib.ccz_svc_start(byref(svc), cfg, False), "start %s" % name)
            self._svc = svc.value
        finally:
            if not self._svc:
                lib.ccz_svc_config_free(cfg)
        self._cfg = cfg.value  # the service reads it while it runs: freed after it
        self.name = name

    @property
    def port(self) -> int:
        """The port it listens on (ValueError once stopped)."""
        if not self._svc:
            raise ValueError("the service is stopped")
        return lib.ccz_svc_port(self._svc)

    @property
    def url(self) -> str:
        host = str(self.config.get("listen", "127.0.0.1:0")).rsplit(":", 1)[0] or "127.0.0.1"
        return "https://%s:%d" % (host, self.port)

    def stop(self, grace_ms: int = 1000) -> None:
        """Drains (requests in progress finish within grace_ms), waits and frees."""
        if not 0 <= grace_ms <= 0xFFFFFFFF:  # a C unsigned: -1 would be a grace of 49 days
            raise ValueError("grace_ms is 0 to 4294967295, not %r" % (grace_ms,))
        s, self._svc = getattr(self, "_svc", None), None
        if s:
            lib.ccz_svc_stop(s, grace_ms)
            lib.ccz_svc_wait(s)
            lib.ccz_svc_free(s)
        cfg, self._cfg = getattr(self, "_cfg", None), None
        if cfg:
            lib.ccz_svc_config_free(cfg)

    def __del__(self) -> None:
        self.stop(0)

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
