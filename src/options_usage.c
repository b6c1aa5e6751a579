/* options_usage.c - the --help text, kept apart from the parser so that
 * each stays one screen of concern. See options.h. */
#include <stdio.h>

#include "options.h"

void
options_usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: " SHS_NAME " [OPTION]... [DIR]\n"
	    "Serve the files of DIR over HTTP/1.1 (default: ./public if it exists, else .).\n"
	    "\n"
	    "  -p, --port N               TCP port, 0 picks a free one (default: 8080,\n"
	    "                             or the next free one when 8080 is busy)\n"
	    "  -d, --top-dir DIR          directory to serve, the same as DIR\n"
	    "  -b, --host ADDR            address to listen on; :: and 0.0.0.0 mean all\n"
	    "                             (default: 127.0.0.1)\n"
	    "      --dev                  development: 404 and 403 pages explain why\n"
	    "      --live                 --dev, and pages reload when files change\n"
	    "      --open                 open the first URL in the default browser\n"
	    "      --check                check the command line, top dir, logs and\n"
	    "                             addresses, say what would be served, exit 0 or 2\n"
	    "      --dotfiles             serve dotfiles and dot-directories (default: 404)\n"
	    "      --follow-symlinks      serve symlinks leading out of the top dir (403)\n"
	    "      --listing              list directories that have no index.html\n"
	    "      --spa                  unknown paths without an extension get /index.html\n"
	    "      --clean-urls           /about is served from about.html\n"
	    "      --rules                apply the top dir's _redirects and _headers files\n"
	    "                             (--dev and --live: when they exist)\n"
	    "      --no-precompressed     ignore x.br / x.zst / x.gz next to x\n"
	    "      --header 'NAME: VALUE' add a header to every response (repeatable)\n"
	    "      --cors                 Access-Control-Allow-Origin: * and preflights\n"
	    "      --cache-control VALUE  Cache-Control for files (200, 206, 304)\n"
	    "      --error-cache-control VALUE\n"
	    "                             Cache-Control for errors and redirects\n"
	    "      --health PATH          answer PATH with 200 ok (503 while lame duck)\n"
	    "      --lameduck SECS        on SIGTERM, fail --health for SECS, then stop\n"
	    "      --access-log FILE|-    access log, - for stdout (default: -)\n"
	    "      --no-access-log        no access log\n"
	    "      --log-format FORMAT    combined or common (default: combined)\n"
	    "      --error-log FILE       error log file instead of stderr\n"
	    "      --header-timeout SECS  time for a whole request head (default: %d)\n"
	    "      --idle-timeout SECS    keep-alive idle time (default: %d)\n"
	    "      --send-timeout SECS    time a client may stall a response (default: %d)\n"
	    "      --drain-timeout SECS   after an upgrade (SIGUSR2), responses in flight\n"
	    "                             may finish this long (default: %d)\n"
	    "      --listen ADDR:PORT     listen here instead of --host/--port; repeatable\n"
	    "                             ([::]:8080, 0.0.0.0:80, :8080)\n"
	    "      --daemon               detach from the terminal (startup errors shown)\n"
	    "      --pidfile FILE         write the pid here; refuse to start if it is held\n"
	    "      --user NAME            switch to this user after binding\n"
	    "      --group NAME           switch to this group (default: the user's)\n"
	    "      --chroot[=DIR]         chroot into DIR (default: the top dir) before that\n"
	    "      --no-root              refuse to run as root without --user\n"
	    "      --cache-size MIB       memory for small files (<= %d KiB each), 0 = off\n"
	    "                             (default: %d); changes show within 1 s\n"
	    "      --max-connections N    clients at once; more get a 503 (default: %d)\n"
	    "      --max-buffers N        requests in flight (16 KiB of buffers each); more\n"
	    "                             get a 503 (default: --max-connections)\n"
	    "      --workers N            worker processes sharing the port (default: 1)\n"
	    "  -v, --verbose              log every request and debug details\n"
	    "  -q, --quiet                log errors only; no startup line (but for --port 0)\n"
	    "  -h, --help                 show this help and exit\n"
	    "  -V, --version              show the version and exit\n"
	    "\n"
	    "SIGTERM or SIGINT stop it after in-flight responses finish (at most %d s).\n",
	    SHS_HEADER_TIMEOUT_MS / 1000, SHS_IDLE_TIMEOUT_MS / 1000, SHS_SEND_TIMEOUT_MS / 1000,
	    SHS_DRAIN_TIMEOUT_MS / 1000, SHS_CACHE_MAX_FILE / 1024, SHS_CACHE_MIB,
	    SHS_DEFAULT_MAX_CONNS, SHS_SHUTDOWN_GRACE_MS / 1000);
}
