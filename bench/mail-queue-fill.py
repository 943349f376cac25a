#!/usr/bin/python3
"""Submits N small messages over SMTP to 127.0.0.1:25 (the scratch Postfix
of bench/mail-queue.sh), two clients at once, one session each: 1 in 5 to a
recipient at example.com, the rest spread over d0.example … d7.example.
Usage: mail-queue-fill.py N"""
import smtplib
import sys
import threading


def fill(first, count):
    with smtplib.SMTP("127.0.0.1", 25, timeout=60) as s:
        for i in range(first, first + count):
            domain = "example.com" if i % 5 == 0 else f"d{i % 8}.example"
            msg = (f"From: bench@sender.test\r\nTo: user{i}@{domain}\r\n"
                   f"Subject: bench {i}\r\n\r\nmessage {i}\r\n")
            s.sendmail("bench@sender.test", [f"user{i}@{domain}"], msg)


def main():
    n = int(sys.argv[1])
    half = n // 2
    threads = [threading.Thread(target=fill, args=(0, half)),
               threading.Thread(target=fill, args=(half, n - half))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
