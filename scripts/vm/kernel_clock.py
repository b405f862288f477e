#!/usr/bin/env python3
"""The kernel clock, seen from outside the daemon, for the VM scenarios.

  kernel_clock.py state                   this kernel's adjtimex state as JSON (reads only)
  kernel_clock.py leave-pll-on            guest only: STA_PLL on with an ADJ_OFFSET pending, as a
                                          previous ntpd might have left it
  kernel_clock.py set-offset SECONDS      guest only: moves CLOCK_REALTIME by SECONDS
  kernel_clock.py sample SERVER:PORT SECONDS OUT.jsonl
                                          every 0.5 s: the clock's offset from SERVER measured
                                          with the best of 4 NTP exchanges, the kernel state,
                                          and whether CLOCK_REALTIME ever went backwards
  kernel_clock.py leap-trace LIMIT OUT.json
                                          the seconds, jumps and kernel leap states seen from
                                          3 s before the next UTC midnight to 4 s after it
                                          (reads only; LIMIT: how long to wait at most)
  kernel_clock.py smear-trace SERVER:PORT HALF-WINDOW LIMIT OUT.jsonl
                                          every 0.1 s from HALF-WINDOW + 3 s before the next UTC
                                          midnight to as long after it: one NTP exchange with
                                          SERVER, timed on CLOCK_TAI (which a leap second does
                                          not move) as well as CLOCK_REALTIME (reads only)

The offsets measured here are the scenario's truth: a separate NTP client of the same reference
server, independent of the daemon's own estimate. Changing the clock is refused unless the
kernel command line carries the VM's marker, so it can never happen on the host.
"""
import ctypes
import ctypes.util
import json
import os
import socket
import struct
import sys
import time

CLOCK_REALTIME = 0
ADJ_OFFSET, ADJ_FREQUENCY, ADJ_STATUS, ADJ_SETOFFSET, ADJ_MICRO, ADJ_NANO = 0x0001, 0x0002, 0x0010, 0x0100, 0x1000, 0x2000
STA_PLL = 0x0001
STATUS_BITS = {
    0x0001: "PLL", 0x0002: "PPSFREQ", 0x0004: "PPSTIME", 0x0008: "FLL", 0x0010: "INS",
    0x0020: "DEL", 0x0040: "UNSYNC", 0x0080: "FREQHOLD", 0x2000: "NANO",
}
STATES = {0: "TIME_OK", 1: "TIME_INS", 2: "TIME_DEL", 3: "TIME_OOP", 4: "TIME_WAIT", 5: "TIME_ERROR"}
GUEST_MARKER = "pendulum.vm-guest"
NTP_UNIX_OFFSET = 2_208_988_800


class Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class Timex(ctypes.Structure):
    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
        ("time", Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int), ("padding", ctypes.c_int * 11),
    ]


libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def adjtime(timex):
    result = libc.clock_adjtime(CLOCK_REALTIME, ctypes.byref(timex))
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def state():
    timex = Timex()
    result = adjtime(timex)
    return {
        "frequency_ppm": timex.freq / 65536.0,
        "tick_us": timex.tick,
        "status": timex.status,
        "status_bits": [name for bit, name in STATUS_BITS.items() if timex.status & bit],
        "state": STATES.get(result, str(result)),
        "maxerror_us": timex.maxerror,
        "esterror_us": timex.esterror,
        "pll_offset": timex.offset,
        "tai": timex.tai,
    }


def require_guest():
    with open("/proc/cmdline") as cmdline:
        if GUEST_MARKER not in cmdline.read().split():
            sys.exit("kernel_clock.py: refusing to change the clock outside the VM guest "
                     f"(no {GUEST_MARKER} on the kernel command line)")


def leave_pll_on():
    require_guest()
    timex = Timex()
    timex.modes = ADJ_STATUS
    timex.status = STA_PLL
    adjtime(timex)
    timex = Timex()
    timex.modes = ADJ_OFFSET | ADJ_MICRO
    timex.offset = 400_000  # µs: a PLL that would go on slewing for minutes
    adjtime(timex)


def set_offset(seconds):
    require_guest()
    nanoseconds = round(seconds * 1e9)
    timex = Timex()
    timex.modes = ADJ_SETOFFSET | ADJ_NANO
    timex.time.tv_sec, timex.time.tv_usec = divmod(nanoseconds, 1_000_000_000)
    adjtime(timex)


def ntp_exchange(udp, server, port, clock=time.CLOCK_REALTIME):
    """One client exchange timed on `clock`: (t1, t2, t3, t4 in ns, the reply's leap
    indicator), or None for no answer, a kiss-o'-death or an answer to something else."""
    request = bytearray(48)
    request[0] = 0x23  # version 4, client
    transmit = os.urandom(8)
    request[40:48] = transmit
    t1 = time.clock_gettime_ns(clock)
    try:
        udp.sendto(request, (server, port))
        reply, _ = udp.recvfrom(512)
    except OSError:  # a timeout, or the scenario took the network down
        return None
    t4 = time.clock_gettime_ns(clock)
    if len(reply) < 48 or reply[24:32] != transmit or reply[0] & 0x07 != 4 or reply[1] == 0:
        return None
    return t1, ntp_to_ns(reply[32:40]), ntp_to_ns(reply[40:48]), t4, reply[0] >> 6


def ntp_offset(server, port, tries=4):
    """Best (least-delay) of `tries` client exchanges: (offset s, delay s) or None."""
    best = None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.3)
        for _ in range(tries):
            exchange = ntp_exchange(udp, server, port)
            if exchange is None:
                time.sleep(0.3)
                continue
            t1, t2, t3, t4, _ = exchange
            offset = ((t2 - t1) + (t3 - t4)) / 2e9
            delay = ((t4 - t1) - (t3 - t2)) / 1e9
            if best is None or delay < best[1]:
                best = (offset, delay)
    return best


def ntp_to_ns(field):
    seconds, fraction = struct.unpack("!II", field)
    return (seconds - NTP_UNIX_OFFSET) * 1_000_000_000 + (fraction * 1_000_000_000 >> 32)


def sample(server, seconds, out_path):
    host, port = server.rsplit(":", 1)
    end = time.monotonic() + seconds
    last_realtime = time.clock_gettime_ns(time.CLOCK_REALTIME)
    went_back_ns = 0
    with open(out_path, "w") as out:
        next_sample = time.monotonic()
        while time.monotonic() < end:
            # Between samples, watch CLOCK_REALTIME closely: a step backwards shows here.
            while time.monotonic() < next_sample:
                now = time.clock_gettime_ns(time.CLOCK_REALTIME)
                went_back_ns = max(went_back_ns, last_realtime - now)
                last_realtime = now
                time.sleep(0.002)
            next_sample += 0.5
            measured = ntp_offset(host, int(port))
            record = {"monotonic": time.monotonic(), "realtime": time.time(), "went_back_ns": went_back_ns, **state()}
            if measured:
                record["offset"], record["delay"] = measured
            out.write(json.dumps(record) + "\n")
            out.flush()


def leap_trace(limit_seconds, out_path):
    """Watches CLOCK_REALTIME and the kernel's leap state from 3 s before the next UTC midnight
    (by this clock) to 4 s after it, every 2 ms: every whole second as it was seen (a second
    seen twice was repeated, one never seen was deleted), every jump, every change of state."""
    now = time.time()
    midnight = (int(now) // 86400 + 1) * 86400
    result = {"midnight": midnight, "started": now, "seconds": [], "jumps": [], "states": []}
    if midnight - now > limit_seconds:
        result["error"] = f"the next midnight is {midnight - now:.0f} s away (limit {limit_seconds:.0f} s)"
    else:
        time.sleep(max(0.0, midnight - 3 - now))
        result["state_before"] = state()
        end = time.monotonic() + 7  # monotonic: a repeated second must not stretch the window
        previous_ns = None
        previous_state = None
        while time.monotonic() < end:
            now_ns = time.clock_gettime_ns(time.CLOCK_REALTIME)
            kernel_state = STATES.get(adjtime(Timex()), "?")
            second = now_ns // 1_000_000_000
            jumped = previous_ns is not None and not (0 <= now_ns - previous_ns < 500_000_000)
            if jumped:
                result["jumps"].append({"from": previous_ns / 1e9, "to": now_ns / 1e9})
            if previous_ns is None or jumped or second != previous_ns // 1_000_000_000:
                result["seconds"].append({"second": second, "utc": time.strftime("%H:%M:%S", time.gmtime(second)),
                                          "state": kernel_state, "first": now_ns / 1e9, "last": now_ns / 1e9})
            else:
                result["seconds"][-1]["last"] = now_ns / 1e9
            if kernel_state != previous_state:
                result["states"].append({"at": now_ns / 1e9, "state": kernel_state})
            previous_ns, previous_state = now_ns, kernel_state
            time.sleep(0.002)
        result["state_after"] = state()
    with open(out_path, "w") as out:
        json.dump(result, out, indent=1)


def smear_trace(server, half_window, limit_seconds, out_path):
    """What a leap-smearing server serves around the next midnight, against a timescale that
    has no leap: CLOCK_TAI less the TAI offset in force before the leap."""
    host, port = server.rsplit(":", 1)
    now = time.time()
    midnight = (int(now) // 86400 + 1) * 86400
    margin = half_window + 3
    with open(out_path, "w") as out:
        if midnight - margin - now > limit_seconds:
            out.write(json.dumps({"error": f"the next midnight is {midnight - now:.0f} s away (limit {limit_seconds:.0f} s)"}) + "\n")
            return
        time.sleep(max(0.0, midnight - margin - now))
        tai_offset_ns = time.clock_gettime_ns(time.CLOCK_TAI) - time.clock_gettime_ns(time.CLOCK_REALTIME)
        out.write(json.dumps({"midnight": midnight, "tai_offset_ns": tai_offset_ns, "state_before": state()}) + "\n")
        end = time.monotonic() + 2 * margin
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(0.3)
            while time.monotonic() < end:
                exchange = ntp_exchange(udp, host, int(port), time.CLOCK_TAI)
                if exchange is not None:
                    tai1, t2, t3, tai4, leap = exchange
                    out.write(json.dumps({"tai1": tai1, "tai4": tai4, "t2": t2, "t3": t3, "leap": leap,
                                          "state": STATES.get(adjtime(Timex()), "?")}) + "\n")
                time.sleep(0.1)


def main(arguments):
    if arguments[:1] == ["state"]:
        print(json.dumps(state()))
    elif arguments[:1] == ["leave-pll-on"]:
        leave_pll_on()
    elif arguments[:1] == ["set-offset"] and len(arguments) == 2:
        set_offset(float(arguments[1]))
    elif arguments[:1] == ["sample"] and len(arguments) == 4:
        sample(arguments[1], float(arguments[2]), arguments[3])
    elif arguments[:1] == ["leap-trace"] and len(arguments) == 3:
        leap_trace(float(arguments[1]), arguments[2])
    elif arguments[:1] == ["smear-trace"] and len(arguments) == 5:
        smear_trace(arguments[1], float(arguments[2]), float(arguments[3]), arguments[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
