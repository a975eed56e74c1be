package qrterm

import (
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// What is printed reads back, module for module, as the QR code of the text.
func TestWriteIsTheCodesBitmap(t *testing.T) {
	for _, text := range []string{
		"http://192.168.1.20:8000/login",
		"http://localhost:8080/oauth/authorize?response_type=code&client_id=sandbox-demo&redirect_uri=scsandbox-demo%3A%2F%2Fexchange&scope=read_vehicle_info&mode=test",
	} {
		t.Run(text, func(t *testing.T) {
			var b strings.Builder
			if err := Write(&b, text); err != nil {
				t.Fatal(err)
			}
			q, err := qrcode.New(text, qrcode.Medium)
			if err != nil {
				t.Fatal(err)
			}
			want := q.Bitmap()
			var got [][]bool
			for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				if !strings.HasPrefix(line, darkOnLight) || !strings.HasSuffix(line, reset) {
					t.Fatalf("line without explicit colours: %q", line)
				}
				var top, bottom []bool
				for _, r := range strings.TrimSuffix(strings.TrimPrefix(line, darkOnLight), reset) {
					top = append(top, r == '█' || r == '▀')
					bottom = append(bottom, r == '█' || r == '▄')
				}
				got = append(got, top, bottom)
			}
			if len(want)%2 == 1 {
				got = got[:len(got)-1] // the last line's lower half is outside the code
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows printed, the code has %d", len(got), len(want))
			}
			for y := range want {
				for x := range want[y] {
					if got[y][x] != want[y][x] {
						t.Fatalf("module (%d,%d) printed %v, want %v", x, y, got[y][x], want[y][x])
					}
				}
			}
		})
	}
}

func TestWriteRefusesTooLongText(t *testing.T) {
	if err := Write(&strings.Builder{}, strings.Repeat("x", 4000)); err == nil {
		t.Fatal("text beyond a QR code's capacity accepted")
	}
}
