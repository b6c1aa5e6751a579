/* workers.c - the master process of --workers N. See workers.h. */
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "upgrade.h"

/* A worker that dies sooner than this after its start is restarted after
 * a delay, doubled each time up to the maximum, so a worker that cannot
 * run does not turn the master into a fork loop. */
#define QUICK_DEATH_MS 1000
#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 30000
/* Time for every worker to get through its start. */
#define START_TIMEOUT_MS 10000
/* After a stop signal: workers finish their responses within the grace
 * period; whoever is still there this much later gets SIGKILL. */
#define KILL_AFTER_MS (SHS_SHUTDOWN_GRACE_MS + 5000)

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
owned_by(const struct workers *ws, unsigned w, int fd)
{
	for (unsigned k = 0; k < ws->nl; k++)
		if (ws->fds[w * ws->nl + k] == fd)
			return 1;
	return 0;
}

/* In a new worker: keep our own listeners in fds[0..nl), close the rest,
 * and make sure we do not outlive the master. */
static void
become_worker(struct workers *ws, unsigned w, pid_t master)
{
	/* A killed master cannot pass SIGTERM on: have the kernel do it. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != master)
		_exit(1); /* the master died before prctl took hold */
	for (unsigned o = 0; o < ws->n; o++)
		for (unsigned k = 0; o != w && k < ws->nl; k++)
			if (!owned_by(ws, w, ws->fds[o * ws->nl + k]))
				close(ws->fds[o * ws->nl + k]);
	memmove(ws->fds, ws->fds + w * ws->nl, ws->nl * sizeof *ws->fds);
	close(ws->ready_rd);
	close(ws->sig_fd);
	upgrade_in_worker(); /* SIGUSR2 now means: retire */
	/* server_init blocks the signals it reads through its own signalfd;
	 * the rest get their defaults back. */
	sigset_t all;
	sigemptyset(&all);
	sigaddset(&all, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
}

/* Forks worker w. Returns 1 in the new worker, 0 in the master, -errno. */
static int
spawn(struct workers *ws, unsigned w)
{
	pid_t master = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		become_worker(ws, w, master);
		return 1;
	}
	ws->w[w].pid = pid;
	ws->w[w].start_ms = now_ms();
	log_debug("worker %u started (pid %ld)", w, (long)pid);
	return 0;
}

static void
signal_all(struct workers *ws, int sig)
{
	for (unsigned w = 0; w < ws->n; w++)
		if (ws->w[w].pid > 0)
			kill(ws->w[w].pid, sig);
}

static unsigned
running(const struct workers *ws)
{
	unsigned r = 0;
	for (unsigned w = 0; w < ws->n; w++)
		r += ws->w[w].pid > 0;
	return r;
}

/* Reaps every child that exited. Unless stopping, each dead worker is due
 * for a restart; while stopping, returns how many ended badly (a signal or
 * a non-zero status). */
static unsigned
reap(struct workers *ws)
{
	unsigned failed = 0;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		unsigned w = 0;
		while (w < ws->n && ws->w[w].pid != pid)
			w++;
		if (w == ws->n) {
			(void)upgrade_child_exited(pid, status); /* a failed new generation */
			continue;
		}
		struct worker *k = &ws->w[w];
		k->pid = 0;
		int bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		if (ws->stopping) {
			/* Only the stop counts for the exit status: a worker that
			 * crashed earlier was replaced and is logged above. */
			failed += bad;
			if (bad)
				log_warn("worker %u (pid %ld) stopped badly (%s %d)", w, (long)pid,
				         WIFSIGNALED(status) ? "signal" : "status",
				         WIFSIGNALED(status) ? WTERMSIG(status)
				                             : WEXITSTATUS(status));
			continue;
		}
		uint64_t now = now_ms();
		if (now - k->start_ms < QUICK_DEATH_MS) {
			k->backoff_ms = k->backoff_ms ? k->backoff_ms * 2 : BACKOFF_FIRST_MS;
			if (k->backoff_ms > BACKOFF_MAX_MS)
				k->backoff_ms = BACKOFF_MAX_MS;
		} else {
			k->backoff_ms = 0;
		}
		k->due_ms = now + k->backoff_ms;
		if (WIFSIGNALED(status))
			log_error("worker %u (pid %ld) killed by signal %d; restarting in %u ms", w,
			          (long)pid, WTERMSIG(status), k->backoff_ms);
		else
			log_error("worker %u (pid %ld) exited with status %d; restarting in %u ms",
			          w, (long)pid, WEXITSTATUS(status), k->backoff_ms);
	}
	return failed;
}

/* Stops and reaps every worker there is (a failed start). */
static void
stop_all_now(struct workers *ws)
{
	ws->stopping = 1;
	signal_all(ws, SIGKILL);
	while (running(ws)) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0 && errno != EINTR)
			break;
		for (unsigned w = 0; w < ws->n; w++)
			if (ws->w[w].pid == pid)
				ws->w[w].pid = 0;
	}
}

int
workers_start(struct workers *ws, unsigned n, int *fds, unsigned nl)
{
	memset(ws, 0, sizeof *ws);
	ws->n = n;
	ws->nl = nl;
	ws->fds = fds;
	ws->sig_fd = ws->ready_rd = ws->ready_wr = ws->upgrade_fd = -1;

	/* Blocked before any fork, so no signal is lost in between; workers
	 * get their own signalfd from server_init. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	int p[2];
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 || pipe2(p, O_CLOEXEC) != 0 ||
	    (ws->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_error("cannot start workers: %s", strerror(errno));
		return -2;
	}
	ws->ready_rd = p[0];
	ws->ready_wr = p[1];
	/* Never blocks: a worker that dies before saying it is up must not
	 * leave the master waiting in read(). */
	fcntl(ws->ready_rd, F_SETFL, O_NONBLOCK);

	for (unsigned w = 0; w < n; w++) {
		int r = spawn(ws, w);
		if (r == 1)
			return (int)w;
		if (r < 0) {
			log_error("cannot start worker %u: %s", w, strerror(-r));
			stop_all_now(ws);
			return -2;
		}
	}

	/* Every worker says it is up, or one dies trying (it printed why).
	 * Meanwhile a death is a failed start, not something to restart. */
	ws->stopping = 1;
	unsigned ready = 0;
	uint64_t deadline = now_ms() + START_TIMEOUT_MS;
	while (ready < n) {
		struct pollfd pf = {.fd = ws->ready_rd, .events = POLLIN};
		(void)poll(&pf, 1, 100);
		char buf[64];
		ssize_t got = read(ws->ready_rd, buf, sizeof buf);
		if (got > 0)
			ready += (unsigned)got;
		if (ready < n && (reap(ws) > 0 || running(ws) < n || now_ms() > deadline)) {
			if (now_ms() > deadline)
				log_error("workers did not start within %d s",
				          START_TIMEOUT_MS / 1000);
			stop_all_now(ws);
			return -2;
		}
	}
	ws->stopping = 0;
	return -1;
}

void
workers_ready(struct workers *ws)
{
	ssize_t n;
	do
		n = write(ws->ready_wr, "R", 1);
	while (n < 0 && errno == EINTR);
	close(ws->ready_wr);
	ws->ready_wr = -1;
}

/* A stop signal: the workers finish what they are doing; the master's
 * copies of the listeners close so new clients are refused at once. After
 * an upgrade (sig SIGUSR2: retire) the new generation holds every one of
 * them, so the queues live on; each worker ends by itself within
 * --drain-timeout (server.c), so no SIGKILL follows (kill_after 0). */
static void
begin_stop(struct workers *ws, int sig, unsigned kill_after)
{
	if (!ws->stopping) {
		log_info("stopping %u worker(s)", running(ws));
		for (unsigned i = 0; i < ws->n * ws->nl; i++)
			if (ws->fds[i] >= 0)
				close(ws->fds[i]); /* a shared fd twice: EBADF, harmless */
		ws->stopping = 1;
		/* SIGTERM/SIGINT put each worker in lame duck first. */
		int lame = sig == SIGTERM || sig == SIGINT;
		ws->kill_ms = kill_after ? now_ms() + kill_after + (lame ? ws->lameduck_ms : 0)
		                         : UINT64_MAX;
	}
	signal_all(ws, sig);
}

/* SIGUSR2 to the master: the new generation is a master too, with every
 * worker's socket; once it is ready, this one's workers retire. */
static void
on_usr2(struct workers *ws)
{
	if (ws->stopping)
		log_warn("SIGUSR2: stopping already; ignored");
	else if (ws->upgrade_fd < 0)
		ws->upgrade_fd = upgrade_begin(); /* < 0: refused, logged */
	else
		(void)upgrade_begin(); /* logs that one is in progress */
}

static void
on_upgrade(struct workers *ws)
{
	enum upgrade_result r = upgrade_poll();
	if (r == UPGRADE_PENDING)
		return;
	ws->upgrade_fd = -1;
	/* Issue 17 (--lameduck): the workers' drain starts with SIGUSR2 here,
	 * so a lameduck step in the workers (server.c retire) covers this. */
	if (r == UPGRADE_READY)
		begin_stop(ws, SIGUSR2, 0);
}

/* 1 if a worker forked from here returned (we are that worker), else 0. */
static int
restart_due(struct workers *ws, int *worker)
{
	uint64_t now = now_ms();
	for (unsigned w = 0; w < ws->n; w++) {
		if (ws->w[w].pid > 0 || ws->w[w].due_ms > now)
			continue;
		int r = spawn(ws, w);
		if (r == 1) {
			*worker = (int)w;
			return 1;
		}
		if (r < 0) {
			log_error("cannot restart worker %u: %s", w, strerror(-r));
			ws->w[w].due_ms = now + BACKOFF_MAX_MS;
		}
	}
	return 0;
}

static int
wait_ms(const struct workers *ws)
{
	uint64_t now = now_ms(), next = UINT64_MAX;
	if (ws->stopping)
		next = ws->kill_ms;
	for (unsigned w = 0; !ws->stopping && w < ws->n; w++)
		if (ws->w[w].pid == 0 && ws->w[w].due_ms < next)
			next = ws->w[w].due_ms;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

int
workers_supervise(struct workers *ws, const char *error_log, int *exit_status)
{
	unsigned failed = 0;
	int r;
	while (!ws->stopping || running(ws) > 0) {
		struct pollfd pf[3] = {{.fd = ws->sig_fd, .events = POLLIN},
		                       {.fd = ws->ready_rd, .events = POLLIN},
		                       {.fd = ws->upgrade_fd, .events = POLLIN}};
		if (poll(pf, 3, wait_ms(ws)) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			begin_stop(ws, SIGTERM, KILL_AFTER_MS);
		}
		char buf[64];
		while (read(ws->ready_rd, buf, sizeof buf) > 0)
			; /* restarted workers saying they are up */
		struct signalfd_siginfo si;
		while (read(ws->sig_fd, &si, sizeof si) == (ssize_t)sizeof si) {
			switch (si.ssi_signo) {
			case SIGCHLD:
				break; /* reaped below */
			case SIGUSR2:
				on_usr2(ws);
				break;
			case SIGHUP:
			case SIGUSR1:
				if (error_log && (r = log_reopen()) < 0)
					log_error("reopening error log %s: %s (still writing to "
					          "the old file)",
					          error_log, strerror(-r));
				signal_all(ws, (int)si.ssi_signo);
				break;
			default: /* SIGTERM, SIGINT, SIGQUIT */
				begin_stop(ws, (int)si.ssi_signo, KILL_AFTER_MS);
				break;
			}
		}
		if (ws->upgrade_fd >= 0 && (pf[2].revents & POLLIN))
			on_upgrade(ws);
		failed += reap(ws);
		if (ws->stopping && running(ws) > 0 && now_ms() >= ws->kill_ms) {
			log_warn("%u worker(s) still running: killing them", running(ws));
			signal_all(ws, SIGKILL);
			ws->kill_ms = UINT64_MAX;
		}
		int worker;
		if (!ws->stopping && restart_due(ws, &worker))
			return worker; /* we are that worker now */
	}
	*exit_status = failed ? 1 : 0;
	return -1;
}
