package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Input lines: "V <version>", "S <version>", "C <a>\t<b>", "K <constraint>\t<version>"
func main() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 {
			continue
		}
		kind, arg := line[:1], line[2:]
		switch kind {
		case "V", "S":
			var v *semver.Version
			var err error
			if kind == "V" {
				v, err = semver.NewVersion(arg)
			} else {
				v, err = semver.StrictNewVersion(arg)
			}
			if err != nil {
				fmt.Printf("%s\t%s\tERR\t%s\n", kind, arg, err)
			} else {
				fmt.Printf("%s\t%s\tOK\t%s|%d|%d|%d|%s|%s|%s\n", kind, arg, v.String(), v.Major(), v.Minor(), v.Patch(), v.Prerelease(), v.Metadata(), v.Original())
			}
		case "I":
			v, err := semver.NewVersion(arg)
			if err != nil {
				fmt.Printf("I\t%s\tBAD\n", arg)
				continue
			}
			a, b, c := v.IncMajor(), v.IncMinor(), v.IncPatch()
			fmt.Printf("I\t%s\t%s|%s|%s|%s|%s|%s\n", arg, a.String(), a.Original(), b.String(), b.Original(), c.String(), c.Original())
		case "C":
			p := strings.SplitN(arg, "\t", 2)
			a, e1 := semver.NewVersion(p[0])
			b, e2 := semver.NewVersion(p[1])
			if e1 != nil || e2 != nil {
				fmt.Printf("C\t%s\tBAD\n", arg)
				continue
			}
			fmt.Printf("C\t%s\t%d\n", arg, a.Compare(b))
		case "K":
			p := strings.SplitN(arg, "\t", 2)
			c, err := semver.NewConstraint(p[0])
			if err != nil {
				fmt.Printf("K\t%s\tERR\t%s\n", arg, err)
				continue
			}
			v, err := semver.NewVersion(p[1])
			if err != nil {
				fmt.Printf("K\t%s\tVERR\t%s\n", arg, err)
				continue
			}
			ok, errs := c.Validate(v)
			msgs := []string{}
			for _, e := range errs {
				msgs = append(msgs, e.Error())
			}
			fmt.Printf("K\t%s\t%v\t%v\t%s\t%s\n", arg, c.Check(v), ok, c.String(), strings.Join(msgs, " ;; "))
		}
	}
}
