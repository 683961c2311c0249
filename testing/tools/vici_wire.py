"""The vici protocol as the testbed's tools speak it (vici-events,
vici-request): packets on charon's socket, messages flattened into
key=value pairs.
"""
import struct
import sys

CMD_REQUEST, CMD_RESPONSE, CMD_UNKNOWN = 0, 1, 2
EVENT_REGISTER, EVENT_UNREGISTER, EVENT_CONFIRM, EVENT_UNKNOWN, EVENT = \
    3, 4, 5, 6, 7
SECTION_START, SECTION_END, KEY_VALUE, LIST_START, LIST_ITEM, LIST_END = \
    1, 2, 3, 4, 5, 6


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit("vici: charon closed the connection")
        data += chunk
    return data


def recv_packet(sock):
    length = struct.unpack("!I", recv_exact(sock, 4))[0]
    return recv_exact(sock, length)


def send_packet(sock, ptype, name, message=b""):
    payload = struct.pack("!BB", ptype, len(name)) + name.encode() + message
    sock.sendall(struct.pack("!I", len(payload)) + payload)


def decode(message):
    """Flatten a vici message into key=value pairs, sections as prefixes."""
    out, path, pos = [], [], 0
    while pos < len(message):
        kind = message[pos]
        pos += 1
        if kind in (SECTION_START, KEY_VALUE, LIST_START):
            nlen = message[pos]
            name = message[pos + 1:pos + 1 + nlen].decode()
            pos += 1 + nlen
        if kind == SECTION_START:
            path.append(name)
        elif kind == SECTION_END:
            path.pop()
        elif kind == KEY_VALUE:
            vlen = struct.unpack("!H", message[pos:pos + 2])[0]
            value = message[pos + 2:pos + 2 + vlen].decode(errors="replace")
            pos += 2 + vlen
            out.append("%s=%s" % (".".join(path + [name]), value))
        elif kind == LIST_START:
            path.append(name)
        elif kind == LIST_ITEM:
            vlen = struct.unpack("!H", message[pos:pos + 2])[0]
            value = message[pos + 2:pos + 2 + vlen].decode(errors="replace")
            pos += 2 + vlen
            out.append("%s=%s" % (".".join(path), value))
        elif kind == LIST_END:
            path.pop()
    return out


def encode(pairs):
    """A vici message of key=value pairs (no sections or lists)."""
    out = b""
    for key, value in pairs:
        k, v = key.encode(), value.encode()
        out += struct.pack("!BB", KEY_VALUE, len(k)) + k
        out += struct.pack("!H", len(v)) + v
    return out
