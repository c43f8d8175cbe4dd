/*
 * hostile_corpus.h: the hostile-program corpus for test_sandbox_hostile.c:
 * Python and C programs that try to break out of, exhaust or fool the
 * sandbox, each with the verdict the `code` reward must give it.
 *
 * Every destructive attempt is aimed at canaries the test sets up, never at
 * the real system. Placeholders the test substitutes before running:
 *   @CANARY@   a canary directory outside the work directory (holds secret.txt, sub/)
 *   @SECRET@   the canary secret file          @ETC@     a canary file in /etc
 *   @USRNEW@   a path in /usr that must stay absent
 *   @PORT@     a TCP listener on 127.0.0.1 and ::1 the test watches
 *   @UPORT@    a UDP socket on 127.0.0.1 the test watches
 *   @ABS@      an abstract unix socket the test listens on
 *   @ENVNAME@  an environment variable only the test process has
 *   @TESTPID@  the test's own pid
 * Programs of the "attempt" kind print "blocked" when every attempt failed
 * and "ESCAPED <what>" otherwise; their test case expects "blocked".
 * Not for: the canonical problem set (test_sandbox_canonical.c).
 */
#ifndef GRPO_HOSTILE_CORPUS_H
#define GRPO_HOSTILE_CORPUS_H

enum {
    H_FAST = 1,        /* in the fast subset (default ctest run) */
    H_NEEDS_LIMITS = 2, /* fork bombs, kill(-1): only once PID namespace + process limit are confirmed */
    H_NOT_MINIMAL = 4, /* meaningless or unsafe without namespaces */
};

typedef struct {
    const char *name;
    const char *lang;    /* "python" or "c" */
    const char *src;
    const char *expect;  /* verdict */
    const char *output;  /* expected stdout (stdin/stdout test with empty stdin), or NULL: */
    const char *asserts; /* assert-style test code */
    unsigned flags;
} Hostile;

/* ---- Python ---- */

#define PY_PRELUDE                                                                  \
    "import os, sys, socket\n"                                                      \
    "_leaks = []\n"                                                                 \
    "def attempt(name, fn):\n"                                                      \
    "    try:\n"                                                                    \
    "        fn()\n"                                                                \
    "    except BaseException:\n"                                                   \
    "        return\n"                                                              \
    "    _leaks.append(name)\n"                                                     \
    "def must(ok):\n"                                                               \
    "    if not ok:\n"                                                              \
    "        raise OSError('no')\n"                                                 \
    "def done():\n"                                                                 \
    "    print('blocked' if not _leaks else 'ESCAPED ' + ' '.join(_leaks))\n"

#define C_PRELUDE                                                                           \
    "#define _GNU_SOURCE\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"   \
    "#include <unistd.h>\n#include <fcntl.h>\n#include <errno.h>\n#include <signal.h>\n"    \
    "#include <dirent.h>\n#include <sched.h>\n#include <sys/types.h>\n#include <sys/stat.h>\n" \
    "#include <sys/socket.h>\n#include <sys/syscall.h>\n#include <sys/wait.h>\n"            \
    "#include <sys/resource.h>\n#include <sys/ptrace.h>\n#include <sys/mount.h>\n"          \
    "#include <sys/ioctl.h>\n#include <sys/mman.h>\n#include <sys/un.h>\n"                 \
    "#include <netinet/in.h>\n#include <arpa/inet.h>\n#include <linux/netlink.h>\n"        \
    "static int leaks;\n"                                                                   \
    "static void attempt(const char *name, int escaped) {\n"                                \
    "    if (escaped) { printf(\"ESCAPED %s\\n\", name); leaks++; }\n"                      \
    "}\n"                                                                                   \
    "static void done(void) { if (!leaks) puts(\"blocked\"); }\n"                           \
    "static int readable(const char *p) {\n"                                                \
    "    char b[64]; int fd = open(p, O_RDONLY); if (fd < 0) return 0;\n"                   \
    "    int n = (int)read(fd, b, sizeof b); close(fd); return n > 0;\n"                    \
    "}\n"

static const Hostile corpus[] = {
    /* -- time -- */
    {"py infinite loop", "python", "while True:\n    pass\n", "time_limit", "", NULL, H_FAST},
    {"py sleep past the deadline", "python", "import time\ntime.sleep(100)\n", "time_limit", "", NULL, 0},
    {"py SIGTERM ignored", "python",
     "import signal, time\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU):\n"
     "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)\n",
     "time_limit", "", NULL, 0},
    {"c infinite loop", "c", "int main(void) { volatile unsigned long x = 0; for (;;) x++; }", "time_limit", "", NULL,
     H_FAST},
    {"c sleep past the deadline", "c", "#include <unistd.h>\nint main(void) { sleep(100); return 0; }", "time_limit", "",
     NULL, 0},
    {"c every catchable signal ignored", "c",
     "#include <signal.h>\nint main(void) { for (int s = 1; s < 65; s++) signal(s, SIG_IGN);\n"
     "volatile unsigned long x = 0; for (;;) x++; }",
     "time_limit", "", NULL, 0},

    /* -- processes -- */
    {"py fork bomb (bounded)", "python",
     "import os, time\nn = 0\ntry:\n    for i in range(2000):\n        if os.fork() == 0:\n"
     "            time.sleep(30)\n            os._exit(0)\n        n += 1\nexcept OSError:\n    pass\n"
     "print('limited' if n < 2000 else 'unlimited')\n",
     "passed", "limited\n", NULL, H_FAST | H_NEEDS_LIMITS},
    {"c fork bomb (bounded)", "c",
     "#include <stdio.h>\n#include <unistd.h>\nint main(void) { int n = 0;\n"
     "for (int i = 0; i < 2000; i++) { pid_t p = fork(); if (p == 0) { sleep(30); _exit(0); } if (p < 0) break; n++; }\n"
     "puts(n < 2000 ? \"limited\" : \"unlimited\"); return 0; }",
     "passed", "limited\n", NULL, H_NEEDS_LIMITS},
    {"py thread bomb (bounded)", "python",
     "import threading, time, os\nn = 0\ntry:\n    for i in range(2000):\n"
     "        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n        n += 1\n"
     "except RuntimeError:\n    pass\nprint('limited' if n < 2000 else 'unlimited', flush=True)\nos._exit(0)\n",
     "passed", "limited\n", NULL, H_NEEDS_LIMITS},
    {"c thread bomb (bounded)", "c",
     "#include <pthread.h>\n#include <stdio.h>\n#include <unistd.h>\n"
     "static void *nap(void *a) { (void)a; sleep(30); return 0; }\n"
     "int main(void) { int n = 0; for (int i = 0; i < 2000; i++) { pthread_t t;\n"
     "if (pthread_create(&t, 0, nap, 0) != 0) break; n++; }\n"
     "puts(n < 2000 ? \"limited\" : \"unlimited\"); fflush(stdout); _exit(0); }",
     "passed", "limited\n", NULL, H_NEEDS_LIMITS},
    {"py double-forked daemon", "python",
     "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(1.5)\n"
     "        try:\n            open('@CANARY@/daemon.txt', 'w').write('x')\n        except Exception:\n"
     "            pass\n        time.sleep(60)\n    os._exit(0)\nos.wait()\nprint('parent done')\n",
     "passed", "parent done\n", NULL, H_FAST},
    {"c double-forked daemon", "c",
     "#include <stdio.h>\n#include <unistd.h>\n#include <sys/wait.h>\n"
     "int main(void) { if (fork() == 0) { setsid(); if (fork() == 0) { close(1); sleep(2);\n"
     "FILE *f = fopen(\"@CANARY@/daemon.txt\", \"w\"); if (f) fputs(\"x\", f); sleep(60); }\n _exit(0); }\n"
     "wait(0); puts(\"parent done\"); return 0; }",
     "passed", "parent done\n", NULL, 0},
    {"py kill the parent, init and kill(-1)", "python",
     "import os, signal\nchildren = [os.fork() or os.pause() for _ in range(3)]\n"
     "for pid in (os.getppid(), 1, @TESTPID@, -1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
     "    except OSError:\n        pass\nprint('alive')\n",
     "passed", "alive\n", NULL, H_FAST | H_NEEDS_LIMITS},
    {"c kill the parent, init and kill(-1)", "c",
     "#include <stdio.h>\n#include <signal.h>\n#include <unistd.h>\n"
     "int main(void) { for (int i = 0; i < 3; i++) if (fork() == 0) { pause(); _exit(0); }\n"
     "kill(getppid(), SIGKILL); kill(1, SIGKILL); kill(@TESTPID@, SIGKILL); kill(-1, SIGKILL); kill(-1, SIGSTOP);\n"
     "puts(\"alive\"); return 0; }",
     "passed", "alive\n", NULL, H_NEEDS_LIMITS},

    /* -- memory and stack -- */
    {"py memory bomb", "python", "a = []\nwhile True:\n    a.append(bytearray(10 ** 7))\n", "memory_limit", "", NULL,
     H_FAST},
    {"py huge allocation", "python", "x = bytearray(10 ** 12)\nprint(len(x))\n", "memory_limit", "", NULL, 0},
    {"c memory bomb", "c",
     "#include <stdlib.h>\n#include <string.h>\n"
     "int main(void) { for (;;) { char *p = malloc(1 << 24); if (!p) abort(); memset(p, 1, 1 << 24); } }",
     "memory_limit", "", NULL, H_FAST},
    {"c huge mmap", "c",
     "#include <sys/mman.h>\n#include <string.h>\nint main(void) { size_t n = (size_t)1 << 40;\n"
     "char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);\n"
     "if (p == MAP_FAILED) return 3; memset(p, 1, n); return 0; }",
     "runtime_error", "", NULL, 0},
    {"py unbounded recursion", "python", "def f(n):\n    return f(n + 1) + 1\nprint(f(0))\n", "runtime_error", "", NULL,
     0},
    {"c unbounded recursion", "c",
     "int f(int x) { volatile char b[4096]; b[0] = (char)x; return f(x + 1) + b[0]; }\nint main(void) { return f(0); }",
     "runtime_error", "", NULL, 0},

    /* -- output and files -- */
    {"py endless stdout", "python", "while True:\n    print('x' * 1000)\n", "output_limit", "", NULL, H_FAST},
    {"py endless stderr", "python", "import sys\nwhile True:\n    sys.stderr.write('e' * 1000)\n", "output_limit", "",
     NULL, 0},
    {"c endless stdout", "c", "#include <stdio.h>\nint main(void) { for (;;) puts(\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"); }",
     "output_limit", "", NULL, 0},
    {"c endless stderr", "c", "#include <stdio.h>\nint main(void) { for (;;) fputs(\"eeeeeeeeeeeeeeee\", stderr); }",
     "output_limit", "", NULL, 0},
    {"py 1 GB file", "python",
     "with open('big.bin', 'wb') as f:\n    for i in range(1024):\n        f.write(b'\\0' * (1 << 20))\nprint('wrote')\n",
     "runtime_error", "", NULL, 0},
    {"c 1 GB file", "c",
     "#include <stdio.h>\nint main(void) { static char mb[1 << 20]; FILE *f = fopen(\"big.bin\", \"wb\");\n"
     "if (!f) return 2; for (int i = 0; i < 1024; i++) fwrite(mb, 1, sizeof mb, f); fclose(f); puts(\"wrote\"); }",
     "runtime_error", "", NULL, 0},
    {"py a million files", "python",
     "n = 0\ntry:\n    for i in range(1000000):\n        open('f%d' % i, 'w').close()\n        n += 1\n"
     "except OSError:\n    pass\nprint('limited' if n < 1000000 else 'unlimited')\n",
     "passed", "limited\n", NULL, H_NOT_MINIMAL},
    {"c a million directories", "c",
     "#include <stdio.h>\n#include <sys/stat.h>\nint main(void) { char p[32]; int n = 0;\n"
     "for (int i = 0; i < 1000000; i++) { snprintf(p, sizeof p, \"d%d\", i); if (mkdir(p, 0700)) break; n++; }\n"
     "puts(n < 1000000 ? \"limited\" : \"unlimited\"); return 0; }",
     "passed", "limited\n", NULL, H_NOT_MINIMAL},

    /* -- the file system outside the work directory (canaries only) -- */
    {"py writes to /etc and /usr", "python",
     PY_PRELUDE
     "attempt('overwrite', lambda: open('@ETC@', 'w').write('pwned'))\n"
     "attempt('append', lambda: open('@ETC@', 'a').write('pwned'))\n"
     "attempt('delete', lambda: os.remove('@ETC@'))\n"
     "attempt('rename', lambda: os.rename('@ETC@', '@ETC@.moved'))\n"
     "attempt('chmod', lambda: os.chmod('@ETC@', 0o777))\n"
     "attempt('create-etc', lambda: open('@ETC@.new', 'w').write('x'))\n"
     "attempt('create-usr', lambda: open('@USRNEW@', 'w').write('x'))\n"
     "attempt('mkdir-usr', lambda: os.mkdir('@USRNEW@'))\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"c writes to /etc and /usr", "c",
     C_PRELUDE
     "int main(void) {\n"
     "attempt(\"overwrite\", open(\"@ETC@\", O_WRONLY | O_TRUNC) >= 0);\n"
     "attempt(\"delete\", unlink(\"@ETC@\") == 0);\n"
     "attempt(\"rename\", rename(\"@ETC@\", \"@ETC@.moved\") == 0);\n"
     "attempt(\"chown\", chown(\"@ETC@\", getuid(), getgid()) == 0);\n"
     "attempt(\"create-etc\", open(\"@ETC@.new\", O_WRONLY | O_CREAT, 0644) >= 0);\n"
     "attempt(\"create-usr\", open(\"@USRNEW@\", O_WRONLY | O_CREAT, 0644) >= 0);\n"
     "attempt(\"truncate\", truncate(\"@ETC@\", 0) == 0);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"py reads /etc/shadow, /root, the canary secret", "python",
     PY_PRELUDE
     "attempt('shadow', lambda: open('/etc/shadow').read())\n"
     "attempt('root', lambda: os.listdir('/root'))\n"
     "attempt('secret', lambda: open('@SECRET@').read())\n"
     "attempt('canary-dir', lambda: os.listdir('@CANARY@'))\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"c reads /etc/shadow, /root, the canary secret", "c",
     C_PRELUDE
     "int main(void) {\n"
     "attempt(\"shadow\", readable(\"/etc/shadow\"));\n"
     "attempt(\"root\", opendir(\"/root\") != NULL);\n"
     "attempt(\"secret\", readable(\"@SECRET@\"));\n"
     "attempt(\"canary-dir\", opendir(\"@CANARY@\") != NULL);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"py reads the trainer's environment", "python",
     PY_PRELUDE
     "def env():\n"
     "    must('@ENVNAME@' in os.environ)\n"
     "attempt('environ', env)\n"
     "def proc_env():\n"
     "    for p in os.listdir('/proc'):\n"
     "        try:\n"
     "            if b'@ENVNAME@' in open('/proc/%s/environ' % p, 'rb').read():\n"
     "                return\n"
     "        except OSError:\n"
     "            pass\n"
     "    raise OSError('not found')\n"
     "attempt('proc-environ', proc_env)\n"
     "attempt('test-environ', lambda: open('/proc/@TESTPID@/environ', 'rb').read())\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"c reads the trainer's environment", "c",
     C_PRELUDE
     "extern char **environ;\n"
     "int main(void) { for (char **e = environ; *e; e++) attempt(\"environ\", strstr(*e, \"@ENVNAME@\") != NULL);\n"
     "attempt(\"getppid-environ\", ({ char p[64]; snprintf(p, sizeof p, \"/proc/%d/environ\", (int)getppid()); "
     "int fd = open(p, O_RDONLY); char b[65536]; int n = fd < 0 ? 0 : (int)read(fd, b, sizeof b - 1); "
     "if (n > 0) b[n] = 0; n > 0 && memmem(b, (size_t)n, \"@ENVNAME@\", strlen(\"@ENVNAME@\")) != NULL; }));\n"
     "attempt(\"test-environ\", readable(\"/proc/@TESTPID@/environ\"));\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"py rm -rf of the canary directory", "python",
     PY_PRELUDE
     "import shutil\n"
     "attempt('rmtree', lambda: shutil.rmtree('@CANARY@'))\n"
     "attempt('unlink', lambda: os.remove('@SECRET@'))\n"
     "attempt('rmdir', lambda: os.rmdir('@CANARY@/sub'))\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"c rm -rf of the canary directory", "c",
     C_PRELUDE
     "int main(void) { pid_t p = fork(); if (p == 0) { execl(\"/bin/rm\", \"rm\", \"-rf\", \"@CANARY@\", (char *)0); "
     "_exit(127); }\n"
     "waitpid(p, 0, 0); attempt(\"unlink\", unlink(\"@SECRET@\") == 0);\n"
     "attempt(\"gone\", access(\"@CANARY@\", F_OK) == 0 && access(\"@SECRET@\", F_OK) != 0 && errno == ENOENT);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"py symlink and hard-link escapes", "python",
     PY_PRELUDE
     "def sl():\n    os.symlink('@SECRET@', 'l1')\n    open('l1').read()\n"
     "def sld():\n    os.symlink('@CANARY@', 'l2')\n    must('secret.txt' in os.listdir('l2'))\n"
     "def hl():\n    os.link('@SECRET@', 'h1')\n"
     "def hle():\n    os.link('@ETC@', 'h2')\n    open('h2', 'a').write('pwned')\n"
     "def slw():\n    os.symlink('@ETC@', 'l3')\n    open('l3', 'a').write('pwned')\n"
     "attempt('symlink-read', sl)\nattempt('symlink-dir', sld)\nattempt('hardlink', hl)\n"
     "attempt('hardlink-write', hle)\nattempt('symlink-write', slw)\n"
     "os.symlink('/', 'root-link')\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"c symlink and hard-link escapes", "c",
     C_PRELUDE
     "int main(void) { symlink(\"@SECRET@\", \"l1\"); attempt(\"symlink-read\", readable(\"l1\"));\n"
     "symlink(\"@CANARY@\", \"l2\"); attempt(\"symlink-dir\", access(\"l2/secret.txt\", F_OK) == 0);\n"
     "attempt(\"hardlink\", link(\"@SECRET@\", \"h1\") == 0);\n"
     "attempt(\"hardlink-etc\", link(\"@ETC@\", \"h2\") == 0);\n"
     "symlink(\"@ETC@\", \"l3\"); attempt(\"symlink-write\", open(\"l3\", O_WRONLY | O_APPEND) >= 0);\n"
     "symlink(\"/\", \"root-link\"); mkdir(\"d\", 0); symlink(\"@CANARY@/secret.txt\", \"d2\");\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},

    /* -- network -- */
    {"py connect to the test's listener", "python",
     PY_PRELUDE
     "def tcp():\n    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n    s.settimeout(0.5)\n"
     "    s.connect(('127.0.0.1', @PORT@))\n    s.send(b'escaped')\n"
     "def tcp6():\n    socket.create_connection(('::1', @PORT@), 0.5).send(b'escaped')\n"
     "def udp():\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'escaped', ('127.0.0.1', @UPORT@))\n"
     "attempt('tcp', tcp)\nattempt('tcp6', tcp6)\nattempt('udp', udp)\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"c connect to the test's listener", "c",
     C_PRELUDE
     "int main(void) { struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(@PORT@);\n"
     "a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); int s = socket(AF_INET, SOCK_STREAM, 0);\n"
     "attempt(\"tcp\", s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0);\n"
     "struct sockaddr_in u = a; u.sin_port = htons(@UPORT@); int d = socket(AF_INET, SOCK_DGRAM, 0);\n"
     "attempt(\"udp\", d >= 0 && sendto(d, \"x\", 1, 0, (struct sockaddr *)&u, sizeof u) == 1);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"py raw, packet and netlink sockets", "python",
     PY_PRELUDE
     "attempt('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))\n"
     "attempt('packet', lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))\n"
     "attempt('netlink', lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))\n"
     "attempt('inet6', lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))\n"
     "attempt('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))\n"
     "done()\n",
     "passed", "blocked\n", NULL, 0},
    {"c raw, packet, netlink and vsock sockets", "c",
     C_PRELUDE
     "int main(void) { attempt(\"raw\", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) >= 0);\n"
     "attempt(\"packet\", socket(AF_PACKET, SOCK_RAW, 0) >= 0);\n"
     "attempt(\"netlink\", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) >= 0);\n"
     "attempt(\"vsock\", socket(40, SOCK_STREAM, 0) >= 0);\n"
     "int sv[2]; attempt(\"socketpair-inet\", socketpair(AF_INET, SOCK_STREAM, 0, sv) == 0);\n"
     "attempt(\"raw-syscall\", syscall(SYS_socket, AF_INET | 0x100000000L, SOCK_DGRAM, 0) >= 0);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"py abstract unix socket of the host", "python",
     PY_PRELUDE
     "def ab():\n    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n    s.connect('\\0@ABS@')\n"
     "    s.send(b'escaped')\n"
     "attempt('abstract', ab)\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_NOT_MINIMAL},

    /* -- privileges, kernel interfaces -- */
    {"py raises its rlimits", "python",
     PY_PRELUDE
     "import resource\n"
     "for r in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU, resource.RLIMIT_FSIZE,\n"
     "          resource.RLIMIT_NOFILE, resource.RLIMIT_STACK):\n"
     "    attempt('rlimit%d' % r, lambda: resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))\n"
     "attempt('setuid0', lambda: os.setuid(0))\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"c raises its rlimits and uid", "c",
     C_PRELUDE
     "int main(void) { int rs[] = {RLIMIT_AS, RLIMIT_NPROC, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CORE};\n"
     "for (int i = 0; i < 6; i++) { struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};\n"
     "attempt(\"rlimit\", setrlimit(rs[i], &r) == 0); }\n"
     "attempt(\"setuid\", setuid(0) == 0); attempt(\"setgid\", setgid(0) == 0);\n"
     "attempt(\"setgroups\", setgroups(0, 0) == 0);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"py ptrace of the parent (ctypes)", "python",
     PY_PRELUDE
     "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
     "attempt('attach', lambda: must(libc.ptrace(16, os.getppid(), 0, 0) == 0))\n"
     "attempt('seize', lambda: must(libc.ptrace(0x4206, os.getppid(), 0, 0) == 0))\n"
     "attempt('traceme', lambda: must(libc.ptrace(0, 0, 0, 0) == 0))\n"
     "attempt('unshare', lambda: must(libc.unshare(0x10000000) == 0))\n"
     "attempt('mount', lambda: must(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0))\n"
     "done()\n",
     "passed", "blocked\n", NULL, 0},
    {"c ptrace of the parent, process_vm_readv", "c",
     C_PRELUDE
     "#include <sys/uio.h>\n"
     "int main(void) { pid_t pp = getppid();\n"
     "attempt(\"attach\", ptrace(PTRACE_ATTACH, pp, 0, 0) == 0);\n"
     "attempt(\"seize\", ptrace(PTRACE_SEIZE, pp, 0, 0) == 0);\n"
     "attempt(\"attach-test\", ptrace(PTRACE_ATTACH, @TESTPID@, 0, 0) == 0);\n"
     "char buf[16]; struct iovec l = {buf, 16}, r = {(void *)0x400000, 16};\n"
     "attempt(\"vm_readv\", process_vm_readv(pp, &l, 1, &r, 1, 0) > 0);\n"
     "pid_t c = fork(); if (c == 0) { int ok = ptrace(PTRACE_TRACEME, 0, 0, 0) == 0; _exit(ok ? 0 : 1); }\n"
     "int st = 1; waitpid(c, &st, 0); attempt(\"traceme\", WIFEXITED(st) && WEXITSTATUS(st) == 0);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, H_FAST},
    {"c namespaces, mount, bpf, io_uring, keyctl, modules", "c",
     C_PRELUDE
     "int main(void) {\n"
     "attempt(\"unshare-user\", unshare(CLONE_NEWUSER) == 0);\n"
     "attempt(\"unshare-ns\", unshare(CLONE_NEWNS) == 0);\n"
     "attempt(\"unshare-net\", unshare(CLONE_NEWNET) == 0);\n"
     "long c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0); if (c == 0) _exit(0);\n"
     "attempt(\"clone-newuser\", c > 0); if (c > 0) waitpid((pid_t)c, 0, 0);\n"
     "int fd = open(\"/proc/self/ns/net\", O_RDONLY); attempt(\"setns\", fd >= 0 && setns(fd, 0) == 0);\n"
     "attempt(\"mount\", mount(\"none\", \"/tmp\", \"tmpfs\", 0, 0) == 0);\n"
     "attempt(\"chroot\", chroot(\"/tmp\") == 0);\n"
     "attempt(\"pivot_root\", syscall(SYS_pivot_root, \"/tmp\", \"/tmp\") == 0);\n"
     "attempt(\"bpf\", syscall(SYS_bpf, 0, 0, 0) >= 0);\n"
     "char p[120] = {0}; attempt(\"io_uring\", syscall(SYS_io_uring_setup, 4, p) >= 0);\n"
     "attempt(\"add_key\", syscall(SYS_add_key, \"user\", \"k\", \"v\", 1, -2) >= 0);\n"
     "attempt(\"keyctl\", syscall(SYS_keyctl, 0, -2, 0) >= 0);\n"
     "attempt(\"init_module\", syscall(SYS_init_module, 0, 0, \"\") == 0);\n"
     "attempt(\"kexec\", syscall(SYS_kexec_load, 0, 0, 0, 0) == 0);\n"
     "attempt(\"perf\", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0) >= 0);\n"
     "attempt(\"userfaultfd\", syscall(SYS_userfaultfd, 0) >= 0);\n"
     "attempt(\"tiocsti\", ioctl(0, TIOCSTI, \"x\") == 0);\n"
     "attempt(\"tiocsti-high\", syscall(SYS_ioctl, 0, 0x100000000L | TIOCSTI, \"x\") == 0);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, H_FAST},
    {"py /proc tricks", "python",
     PY_PRELUDE
     "def env1():\n    must(b'@ENVNAME@' in open('/proc/1/environ', 'rb').read())\n"
     "attempt('init-environ', env1)\n"
     "attempt('init-root', lambda: open('/proc/1/root@SECRET@').read())\n"
     "attempt('init-mem', lambda: open('/proc/1/mem', 'r+b'))\n"
     "attempt('parent-mem', lambda: open('/proc/%d/mem' % os.getppid(), 'r+b'))\n"
     "attempt('init-fd', lambda: os.listdir('/proc/1/fd'))\n"
     "attempt('sysrq', lambda: os.close(os.open('/proc/sysrq-trigger', os.O_WRONLY)))\n"
     "attempt('sysctl', lambda: os.close(os.open('/proc/sys/kernel/hostname', os.O_WRONLY)))\n"
     "attempt('kcore', lambda: must(len(open('/proc/kcore', 'rb').read(16)) > 0))\n"
     "attempt('self-root', lambda: open('/proc/self/root@SECRET@').read())\n"
     "attempt('test-root', lambda: os.listdir('/proc/@TESTPID@/root/'))\n"
     "attempt('test-cwd', lambda: os.listdir('/proc/@TESTPID@/cwd/'))\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_FAST},
    {"py sees only its own processes", "python",
     PY_PRELUDE
     "attempt('pids', lambda: must(len([p for p in os.listdir('/proc') if p.isdigit()]) > 2))\n"
     "done()\n",
     "passed", "blocked\n", NULL, H_NOT_MINIMAL},
    {"c /proc tricks", "c",
     C_PRELUDE
     "int main(void) { attempt(\"init-mem\", open(\"/proc/1/mem\", O_RDWR) >= 0);\n"
     "char p[64]; snprintf(p, sizeof p, \"/proc/%d/mem\", (int)getppid()); attempt(\"parent-mem\", open(p, O_RDWR) >= 0);\n"
     "attempt(\"sysrq\", open(\"/proc/sysrq-trigger\", O_WRONLY) >= 0);\n"
     "attempt(\"core_pattern\", open(\"/proc/sys/kernel/core_pattern\", O_WRONLY) >= 0);\n"
     "attempt(\"init-root\", readable(\"/proc/1/root@SECRET@\"));\n"
     "attempt(\"kcore\", readable(\"/proc/kcore\"));\n"
     "attempt(\"test-root\", opendir(\"/proc/@TESTPID@/root/\") != NULL);\n"
     "done(); return 0; }",
     "passed", "blocked\n", NULL, 0},
    {"c compile-time read of the secret", "c", "#include \"@SECRET@\"\nint main(void) { return 0; }", "compile_error", "",
     NULL, 0},
    {"c compile-time read of /etc/shadow", "c", "#include </etc/shadow>\nint main(void) { return 0; }",
     "compile_error", "", NULL, 0},

    /* -- fooling the judge -- */
    {"py os._exit(0) before the tests", "python", "import os\nos._exit(0)\ndef solve():\n    return 42\n", "failed",
     NULL, "assert solve() == 42\n", H_FAST},
    {"py exit() before the tests", "python", "def solve():\n    return 41\nexit(0)\n", "failed", NULL,
     "assert solve() == 42\n", 0},
    {"py prints a fake token", "python",
     "import sys, os\nsys.stdout.write('\\n' + 'f' * 32 + '\\n')\nsys.stdout.flush()\nos._exit(0)\n", "failed", NULL,
     "assert False\n", 0},
    {"c exit(0) before the tests", "c",
     "#include <stdlib.h>\n__attribute__((constructor)) static void early(void) { exit(0); }\n"
     "int solve(void) { return 41; }",
     "failed", NULL, "assert(solve() == 42);", H_FAST},
    {"c atexit handler prints before the tests", "c",
     "#include <stdio.h>\n#include <stdlib.h>\nstatic void bye(void) { puts(\"ok\"); }\n"
     "int solve(void) { atexit(bye); exit(0); }",
     "failed", NULL, "assert(solve() == 42);", 0},
};

#endif
