package main

import (
	"bytes"
	"debug/elf"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/smartcar-sandbox/smartcar-sandbox/client"
	"github.com/smartcar-sandbox/smartcar-sandbox/internal/config"
)

// needTool fails in CI (CI=true), where scripts/test.sh installs the tools, and skips elsewhere.
func needTool(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: %s is not available", what)
	}
	t.Skipf("%s is not available", what)
}

func repoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fences returns the bodies of docs/ci.md's fenced blocks whose info string is info.
func fences(md []byte, info string) []string {
	re := regexp.MustCompile("(?ms)^```" + regexp.QuoteMeta(info) + "\n(.*?)^```")
	var out []string
	for _, m := range re.FindAllSubmatch(md, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// TestCIRecipe builds the binary static as the Dockerfile does, then runs docs/ci.md's
// ci-steps block as written (on a free port instead of 8080): start, wait for /readyz, a token
// from headless Connect, an API call with it.
func TestCIRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		needTool(t, "bash")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		needTool(t, "curl") // scripts/test.sh installs it
	}
	bin := t.TempDir()
	// CGO_ENABLED=0 as in the Dockerfile (its -trimpath and -ldflags only shrink the binary,
	// and would make this build miss the build cache).
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "smartcar-sandbox"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	f, err := elf.Open(filepath.Join(bin, "smartcar-sandbox"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%v): the distroless static image cannot run it", p.Type)
		}
	}
	f.Close()

	steps := fences(repoFile(t, "docs/ci.md"), "sh ci-steps")
	if len(steps) != 1 {
		t.Fatalf("docs/ci.md has %d ci-steps blocks, want 1", len(steps))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	script := strings.ReplaceAll(steps[0], "127.0.0.1:8080", addr)
	work := t.TempDir()
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", script)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if pid, perr := os.ReadFile(filepath.Join(work, "sandbox.pid")); perr == nil {
		var p int
		for _, c := range strings.TrimSpace(string(pid)) {
			p = p*10 + int(c-'0')
		}
		if p > 0 {
			_ = syscall.Kill(p, syscall.SIGTERM)
		}
	}
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(work, "sandbox.log"))
		t.Fatalf("ci-steps: %v\n%s\nsandbox.log:\n%s", err, out.String(), log)
	}
	if !strings.Contains(out.String(), `"vehicles":[`) {
		t.Fatalf("the API call with the token did not list vehicles:\n%s", out.String())
	}
}

// TestComposeFile checks docs/compose.yaml against what the images and binaries really take: the
// sandbox's environment is a valid configuration, its health check is the binary's own probe,
// the backend's variables are ones it reads and it waits for the sandbox to be healthy, and
// the Dockerfile has both targets, static and non-root. (No Docker engine here to run it.)
func TestComposeFile(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(repoFile(t, "docs/compose.yaml"), &compose); err != nil {
		t.Fatal(err)
	}
	sb, ok := compose.Services["sandbox"]
	if !ok {
		t.Fatal("no sandbox service")
	}
	env := func(k string) string {
		if k == "SANDBOX_ADDR" {
			return "0.0.0.0:8080" // the image's ENV
		}
		return os.Expand(sb.Environment[k], func(v string) string { return "" })
	}
	for k, v := range sb.Environment {
		if strings.Contains(v, "${") {
			sb.Environment[k] = regexp.MustCompile(`\$\{[A-Z_]+:-([^}]*)\}`).ReplaceAllString(v, "$1")
		}
	}
	if _, err := config.Parse(nil, env, io.Discard); err != nil {
		t.Errorf("the sandbox's compose environment is not a valid configuration: %v", err)
	}
	if !slices.Equal(sb.Healthcheck.Test, []string{"CMD", "/smartcar-sandbox", "-healthcheck"}) {
		t.Errorf("sandbox healthcheck = %v", sb.Healthcheck.Test)
	}
	if _, err := config.Parse([]string{"-healthcheck"}, env, io.Discard); err != nil {
		t.Errorf("-healthcheck: %v", err)
	}
	be, ok := compose.Services["tutorial-backend"]
	if !ok {
		t.Fatal("no tutorial-backend service")
	}
	if be.DependsOn["sandbox"].Condition != "service_healthy" {
		t.Errorf("the backend does not wait for a healthy sandbox: %+v", be.DependsOn)
	}
	reads := []string{client.EnvAPIOrigin, client.EnvAuthOrigin, client.EnvConnectOrigin, client.EnvManagementOrigin,
		client.EnvClientID, client.EnvClientSecret, client.EnvRedirectURI, "TUTORIAL_ADDR"}
	for k := range be.Environment {
		if !slices.Contains(reads, k) {
			t.Errorf("the backend's %s is not a variable it reads", k)
		}
	}
	if b, ok := be.Build.(map[string]any); !ok || b["target"] != "tutorial-backend" {
		t.Errorf("tutorial-backend build = %v", be.Build)
	}
	// The file lives in docs/: each build context must be the repository's top, where the
	// Dockerfile is.
	for name, build := range map[string]any{"sandbox": sb.Build, "tutorial-backend": be.Build} {
		ctx, _ := build.(string)
		if m, ok := build.(map[string]any); ok {
			ctx, _ = m["context"].(string)
		}
		if _, err := os.Stat(filepath.Join("..", "..", "docs", ctx, "Dockerfile")); ctx == "" || err != nil {
			t.Errorf("%s build context %q (from docs/) has no Dockerfile", name, ctx)
		}
	}

	df := string(repoFile(t, "Dockerfile"))
	for _, want := range []string{"AS tutorial-backend", "CGO_ENABLED=0 go build", "USER nonroot:nonroot", `ENTRYPOINT ["/smartcar-sandbox"]`, `CMD ["/smartcar-sandbox", "-healthcheck"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// The last stage (the default target) is the sandbox.
	if last := df[strings.LastIndex(df, "\nFROM "):]; !strings.Contains(last, "/smartcar-sandbox") || strings.Contains(last, " AS ") {
		t.Errorf("the Dockerfile's default target is not the sandbox:\n%s", last)
	}
}

// TestCIRecipesParse: the GitHub Actions and GitLab CI recipes in docs/ci.md are valid YAML
// with the shape their systems read, and their sandbox commands are ones the binary has.
func TestCIRecipesParse(t *testing.T) {
	blocks := fences(repoFile(t, "docs/ci.md"), "yaml")
	if len(blocks) != 3 {
		t.Fatalf("docs/ci.md has %d yaml blocks, want 3 (GitHub process, GitHub service, GitLab)", len(blocks))
	}
	for i, b := range blocks {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(b), &doc); err != nil {
			t.Fatalf("yaml block %d: %v", i+1, err)
		}
		switch {
		case doc["jobs"] != nil:
			e2e, _ := doc["jobs"].(map[string]any)["e2e"].(map[string]any)
			if e2e == nil || e2e["runs-on"] == nil || e2e["steps"] == nil {
				t.Errorf("GitHub block %d: jobs.e2e lacks runs-on or steps", i+1)
			}
		case doc["e2e"] != nil:
			job := doc["e2e"].(map[string]any)
			if job["services"] == nil || job["script"] == nil {
				t.Errorf("GitLab block: e2e lacks services or script")
			}
		default:
			t.Errorf("yaml block %d is neither a GitHub workflow nor a GitLab job", i+1)
		}
		for _, flagUse := range regexp.MustCompile(`smartcar-sandbox (-[a-z-]+)`).FindAllStringSubmatch(b, -1) {
			if _, err := config.Parse([]string{flagUse[1] + "=127.0.0.1:8080"}, func(string) string { return "" }, io.Discard); err != nil &&
				strings.Contains(err.Error(), "flag provided but not defined") {
				t.Errorf("block %d uses %s, which the binary does not have", i+1, flagUse[1])
			}
		}
	}
}
