package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Proc is a server the tool started as a separate process (the sandbox binary, or this tool
// in baseline mode), so its resident memory is its own and it has its own Go runtime.
type Proc struct {
	Origin  string
	Startup time.Duration // from exec to the first 200 from /healthz (or the printed origin for the baseline)
	cmd     *exec.Cmd
	logPath string
}

// BuildSandbox builds ./cmd/smartcar-sandbox (run from the module root) into dir, as
// `make build` would, and returns the binary's path.
func BuildSandbox(ctx context.Context, dir string) (string, error) {
	return Build(ctx, dir, "smartcar-sandbox")
}

// Build builds ./cmd/<name> (run from the module root) into dir and returns the binary's path.
func Build(ctx context.Context, dir, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/"+name)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s: %v\n%s", name, err, out)
	}
	return bin, nil
}

var originRE = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// StartProc execs bin with args (which must make it listen on 127.0.0.1:0 and print
// "listening on http://127.0.0.1:PORT" on stdout), waits for the origin and, when health is
// set, for the first 200 from /healthz. The process's stderr (the sandbox's access log) goes
// to a file in logDir, read back only when something fails.
func StartProc(ctx context.Context, bin string, args []string, env []string, logDir string, health bool) (*Proc, error) {
	logFile, err := os.CreateTemp(logDir, "server-*.log")
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p := &Proc{logPath: logFile.Name()}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = env
	p.cmd.Stderr = logFile
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	origin := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if m := originRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				origin <- m[1]
				sent = true
			}
		}
		if !sent {
			close(origin)
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	select {
	case o, ok := <-origin:
		if !ok {
			p.Stop()
			return nil, fmt.Errorf("%s exited without printing its address:\n%s", filepath.Base(bin), p.logTail())
		}
		p.Origin = o
	case <-deadline.C:
		p.Stop()
		return nil, fmt.Errorf("%s printed no address within 15 s:\n%s", filepath.Base(bin), p.logTail())
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
	if health {
		if err := waitHealthy(ctx, p.Origin+"/healthz", 15*time.Second); err != nil {
			p.Stop()
			return nil, fmt.Errorf("%s: %v\n%s", filepath.Base(bin), err, p.logTail())
		}
	}
	p.Startup = time.Since(t0)
	return p, nil
}

func waitHealthy(ctx context.Context, url string, limit time.Duration) error {
	c := NewClient(1)
	defer c.CloseIdleConnections()
	end := time.Now().Add(limit)
	var last error
	for time.Now().Before(end) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		res, err := c.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: %s", res.Status)
		}
		last = err
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("not healthy within %v: %v", limit, last)
}

// RSS is the process's resident set size (VmRSS in /proc/<pid>/status), in bytes.
func (p *Proc) RSS() (int64, error) {
	return ReadRSS(p.cmd.Process.Pid)
}

// ReadRSS reads VmRSS of pid from /proc (Linux only).
func ReadRSS(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/<pid>/status")
}

// CPUTime is the user+system CPU time the process has used so far.
func (p *Proc) CPUTime() (time.Duration, error) {
	return ReadCPUTime(p.cmd.Process.Pid)
}

// clockTick is Linux's USER_HZ, the unit of /proc/<pid>/stat times: 100 on every mainstream
// architecture (reading sysconf would need cgo).
const clockTick = 10 * time.Millisecond

// ReadCPUTime reads utime+stime of pid from /proc/<pid>/stat (Linux only).
func ReadCPUTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: count from the last ")".
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/<pid>/stat")
	}
	f := strings.Fields(string(raw[i+1:])) // f[0] is field 3 (state); utime is field 14, stime 15
	if len(f) < 13 {
		return 0, errors.New("short /proc/<pid>/stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected times in /proc/<pid>/stat: %q %q", f[11], f[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// Stop interrupts the process (a graceful shutdown), then kills it if it lingers.
func (p *Proc) Stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func (p *Proc) logTail() string {
	raw, _ := os.ReadFile(p.logPath)
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

// CleanEnv is os.Environ without the sandbox's own settings, so a developer's .env does not
// change what is measured.
func CleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SANDBOX_") || strings.HasPrefix(kv, "SMARTCAR_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
