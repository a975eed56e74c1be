// Package qrterm prints a QR code in a terminal, so a phone's camera can open a URL from the
// host's screen (or a projector) without anyone typing it.
package qrterm

import (
	"bufio"
	"io"

	qrcode "github.com/skip2/go-qrcode"
)

// Colours are set explicitly (black on bright white) rather than left to the terminal's theme:
// cameras read dark modules on a light ground, and a dark theme would invert the code.
const (
	darkOnLight = "\x1b[30;107m"
	reset       = "\x1b[0m"
)

// Write prints text as a QR code, two rows of modules per line of half blocks, quiet zone
// included, so it stays square in a terminal whose cells are twice as high as wide.
func Write(w io.Writer, text string) error {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for _, line := range lines(q.Bitmap()) {
		bw.WriteString(darkOnLight + line + reset + "\n")
	}
	return bw.Flush()
}

// lines renders bitmap (true = dark) two rows at a time: the upper half block is the upper
// row's module, the lower half the lower row's.
func lines(bitmap [][]bool) []string {
	var out []string
	for y := 0; y < len(bitmap); y += 2 {
		var line []rune
		for x := range bitmap[y] {
			top := bitmap[y][x]
			bottom := y+1 < len(bitmap) && bitmap[y+1][x]
			switch {
			case top && bottom:
				line = append(line, '█')
			case top:
				line = append(line, '▀')
			case bottom:
				line = append(line, '▄')
			default:
				line = append(line, ' ')
			}
		}
		out = append(out, string(line))
	}
	return out
}
