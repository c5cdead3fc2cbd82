"""The pieces of a Masthead cluster on 127.0.0.1 for scripts/load and scripts/soak: a throwaway
PostgreSQL cluster, instances of `masthead serve`, nginx in front, the demo newsroom as seed."""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = "127.0.0.1"
SECRET = "load-test-secret-" + "0123456789abcdef" * 3
METRICS_TOKEN = "load-test-metrics-token-0123456789"
# How long nginx leaves an instance alone once a connection to it failed: a rolling deploy waits
# this long after each instance is back, or nginx would count every instance out at once.
BALANCER_FAIL_TIMEOUT = 2


def say(line):
    print(line, flush=True)


def fail(reason):
    print(f"{os.path.basename(sys.argv[0])}: {reason}", file=sys.stderr, flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for(check, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    fail(f"gave up waiting for {what}")


def http_status(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except Exception:
        return None


class Postgres:
    """A throwaway cluster on a free port, its socket and data in the scratch folder."""

    def __init__(self, scratch):
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        if not versions:
            fail("PostgreSQL's server binaries are not installed (apt-get install postgresql)")
        self.bin = versions[-1]
        self.folder = os.path.join(scratch, "pg")
        self.port = free_port()
        os.makedirs(self.folder)
        self.as_postgres = os.geteuid() == 0
        # A password, not trust: any user of this machine could otherwise connect as superuser.
        self.password = os.urandom(12).hex()
        with open(os.path.join(self.folder, "password"), "w") as out:
            out.write(self.password + "\n")
        if self.as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(os.path.join(self.folder, "password"), "postgres")
        os.chmod(os.path.join(self.folder, "password"), 0o600)
        self.run(["initdb", "-D", f"{self.folder}/data", "-A", "scram-sha-256", "-U", "postgres", "--pwfile", f"{self.folder}/password"])
        self.run(["pg_ctl", "-D", f"{self.folder}/data", "-l", f"{self.folder}/log", "-w", "-o",
                  f"-c listen_addresses={HOST} -c port={self.port} -c unix_socket_directories={self.folder} "
                  "-c max_connections=300 -c fsync=off -c synchronous_commit=off", "start"])
        self.url = f"postgres://postgres:{self.password}@{HOST}:{self.port}/masthead"
        self.sql("CREATE DATABASE masthead", database="postgres")

    def run(self, command):
        command = [os.path.join(self.bin, command[0])] + command[1:]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--"] + command
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd="/")

    def sql_from_stdin(self, statement, database="masthead"):
        """Like sql, with the statement on psql's stdin: for one that carries a password."""
        subprocess.run(["psql", f"postgres://postgres@{HOST}:{self.port}/{database}", "-q", "-v", "ON_ERROR_STOP=1"],
                       input=statement, env=dict(os.environ, PGPASSWORD=self.password), check=True, capture_output=True, text=True)

    def sql(self, statement, database="masthead"):
        answer = subprocess.run(["psql", f"postgres://postgres:{self.password}@{HOST}:{self.port}/{database}", "-q", "-v", "ON_ERROR_STOP=1", "-Atc", statement],
                                check=True, capture_output=True, text=True)
        return answer.stdout.strip()

    def stop(self):
        try:
            self.run(["pg_ctl", "-D", f"{self.folder}/data", "-m", "fast", "stop"])
        except Exception:
            pass


class Instance:
    def __init__(self, name, binary, environment, scratch):
        self.name, self.binary, self.port = name, binary, free_port()
        self.environment = dict(environment, MASTHEAD_PORT=str(self.port), MASTHEAD_DATA=os.path.join(scratch, name))
        self.log = open(os.path.join(scratch, f"{name}.log"), "ab")
        self.process = None
        # When it last became ready: a publish it could not hear of while down is timed from then.
        self.ready_at = []

    @property
    def url(self):
        return f"http://{HOST}:{self.port}"

    def start(self):
        self.process = subprocess.Popen([self.binary, "serve"], env=self.environment, stdout=self.log, stderr=self.log, cwd=REPOSITORY)
        wait_for(lambda: http_status(self.url + "/readyz") == 200, 120, f"{self.name} to be ready")
        self.ready_at.append(time.time())

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


def masthead(binary, environment, *arguments, input_text=None):
    answer = subprocess.run([binary, *arguments], env=environment, input=input_text, capture_output=True, text=True, cwd=REPOSITORY)
    if answer.returncode != 0:
        fail(f"masthead {' '.join(arguments)}: {answer.stderr.strip() or answer.stdout.strip()}")
    return answer.stdout


def seed(binary, environment, postgres, scratch, subscribers):
    """The demo newsroom (by `masthead demo`, stopped once it serves) and a newsletter with
    `subscribers` readers; returns the newsletter's slug."""
    port = free_port()
    demo_environment = dict(environment, MASTHEAD_PORT=str(port), MASTHEAD_DATA=os.path.join(scratch, "seed"))
    demo = subprocess.Popen([binary, "demo"], env=demo_environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPOSITORY)
    try:
        wait_for(lambda: http_status(f"http://{HOST}:{port}/readyz") == 200, 300, "the demo content to load")
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(60)
    newsletter = postgres.sql("SELECT slug FROM newsletters ORDER BY slug LIMIT 1")
    if not newsletter:
        fail("the demo has no newsletter")
    roster = os.path.join(scratch, "subscribers.csv")
    with open(roster, "w") as out:
        out.write("email,name\n")
        for number in range(subscribers):
            out.write(f"reader{number}@load.example,Reader {number}\n")
    masthead(binary, environment, "newsletter", "import", "--newsletter", newsletter, roster)
    return newsletter


def nginx_config(scratch, port, instances):
    servers = "\n".join(f"        server {HOST}:{i.port} max_fails=1 fail_timeout={BALANCER_FAIL_TIMEOUT}s;" for i in instances)
    return f"""
worker_processes 1;
pid {scratch}/nginx.pid;
error_log {scratch}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {scratch}/nginx-body;
    proxy_temp_path {scratch}/nginx-proxy;
    upstream masthead {{
{servers}
        keepalive 64;
    }}
    server {{
        listen {HOST}:{port};
        location / {{
            proxy_pass http://masthead;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $http_x_forwarded_for;
            proxy_set_header X-Request-Id $request_id;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
        }}
    }}
}}
"""


def build(binary):
    """The given masthead, or a release build of this repository's."""
    if binary:
        return binary
    subprocess.run(["swift", "build", "-c", "release", "--product", "masthead"], check=True, cwd=REPOSITORY)
    folder = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], check=True, capture_output=True, text=True, cwd=REPOSITORY)
    return os.path.join(folder.stdout.strip(), "masthead")


class Cluster:
    """PostgreSQL with the demo newsroom, an SMTP server that keeps every message, `count`
    instances of `masthead serve --role all` sharing one secret and media folder, and nginx in
    front of them; everything stopped, and the scratch folder removed unless `keep`, on exit."""

    def __init__(self, binary, count=3, subscribers=0, keep=False):
        self.binary, self.count, self.subscribers, self.keep = binary, count, subscribers, keep
        self.instances, self.postgres, self.sink_process, self.nginx = [], None, None, None

    def __enter__(self):
        # Stopped by a supervisor's SIGTERM, everything is still cleaned up.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
        self.scratch = tempfile.mkdtemp(prefix="masthead-cluster-")
        # Others may pass through (PostgreSQL runs as its own user) but not list or read.
        os.chmod(self.scratch, 0o711)
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def start(self):
        say(f"==> PostgreSQL, SMTP and the demo newsroom in {self.scratch}")
        self.postgres = Postgres(self.scratch)
        self.sink = os.path.join(self.scratch, "mail")
        os.makedirs(self.sink)
        # The sink serves until its standard input closes.
        self.sink_process = subprocess.Popen(
            [sys.executable, os.path.join(REPOSITORY, "Tests/MastheadTests/Support/smtp_sink.py"), self.sink],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        smtp_port = int(self.sink_process.stdout.readline())
        balancer_port = free_port()
        self.base = f"http://{HOST}:{balancer_port}"
        self.environment = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_")}
        self.environment.update(
            MASTHEAD_DATABASE_URL=self.postgres.url, MASTHEAD_SECRET=SECRET, MASTHEAD_MEDIA=os.path.join(self.scratch, "media"),
            MASTHEAD_SMTP_URL=f"smtp://{HOST}:{smtp_port}", MASTHEAD_PUBLIC_URL=self.base, MASTHEAD_EDITIONS="en,ar,fa,tr",
            MASTHEAD_BILLING_TEST_MODE="1", MASTHEAD_LOG_LEVEL="warning", MASTHEAD_METRICS_TOKEN=METRICS_TOKEN,
            MASTHEAD_DATABASE_POOL_SIZE="8", MASTHEAD_HOSTNAME=HOST,
            # A killed instance's newsletter messages are taken up (or settled) when its claim
            # lapses: a minute instead of ten, so that a run need not wait for it.
            MASTHEAD_NEWSLETTER_CLAIM_SECONDS="60",
        )
        self.newsletter = seed(self.binary, self.environment, self.postgres, self.scratch, self.subscribers)
        say(f"==> {self.count} instances and nginx")
        self.instances = [Instance(f"web{n}", self.binary, self.environment, self.scratch) for n in range(1, self.count + 1)]
        for instance in self.instances:
            instance.start()
        configuration = os.path.join(self.scratch, "nginx.conf")
        with open(configuration, "w") as out:
            out.write(nginx_config(self.scratch, balancer_port, self.instances))
        self.nginx = subprocess.Popen(["nginx", "-c", configuration, "-p", self.scratch, "-g", "daemon off;"])
        wait_for(lambda: http_status(self.base + "/") == 200, 30, "nginx")

    def stop_nginx(self):
        if self.nginx:
            self.nginx.terminate()
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()

    def stop_sink(self):
        if self.sink_process:
            self.sink_process.stdin.close()
            self.sink_process.terminate()

    def metrics(self, instance):
        request = urllib.request.Request(instance.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        return urllib.request.urlopen(request, timeout=5).read().decode()

    def __exit__(self, *_):
        for stop in [i.stop for i in self.instances] + [self.stop_nginx, self.stop_sink, self.postgres and self.postgres.stop]:
            try:
                if stop:
                    stop()
            except Exception as error:
                say(f"while stopping: {error}")
        if self.keep:
            say(f"Scratch folder kept: {self.scratch}")
        else:
            shutil.rmtree(self.scratch, ignore_errors=True)
        return False
