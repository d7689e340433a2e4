// Command ggcr-registry serves the in-memory OCI registry of
// go-containerregistry's pkg/registry, which implements the OCI 1.1
// referrers API (distribution v3 does not), for berth's e2e suite.
//
// It adds what the suite needs around that handler: a listen address,
// optional TLS, optional HTTP basic authentication, and a referrers
// response that follows the distribution spec where ggcr v0.22 does not
// (see conformReferrers).
package main

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5000", "address to listen on")
	certFile := flag.String("tls-cert", "", "PEM certificate (chain) to serve TLS with; plain HTTP when empty")
	keyFile := flag.String("tls-key", "", "PEM private key for -tls-cert")
	user := flag.String("user", "", "require HTTP basic authentication with this user name")
	password := flag.String("password", "", "password for -user")
	referrers := flag.Bool("referrers", true, "serve the OCI 1.1 referrers API")
	blobDir := flag.String("blob-dir", "", "keep blobs in this directory instead of memory")
	flag.Parse()

	if (*certFile == "") != (*keyFile == "") {
		log.Fatal("-tls-cert and -tls-key go together")
	}
	if (*user == "") != (*password == "") {
		log.Fatal("-user and -password go together")
	}

	logger := log.New(os.Stderr, "ggcr-registry: ", log.LstdFlags|log.Lmicroseconds)
	opts := []registry.Option{
		registry.Logger(logger),
		registry.WithReferrersSupport(*referrers),
	}
	if *blobDir != "" {
		opts = append(opts, registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobDir)))
	}
	var handler http.Handler = registry.New(opts...)
	if *referrers {
		handler = conformReferrers(handler)
	}
	if *user != "" {
		handler = requireBasicAuth(handler, *user, *password, logger)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(os.Stderr, "ggcr-registry: serving %s on %s (referrers API: %v, basic auth: %v)\n",
		scheme, ln.Addr(), *referrers, *user != "")
	if *certFile != "" {
		err = server.ServeTLS(ln, *certFile, *keyFile)
	} else {
		err = server.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// requireBasicAuth answers 401 with a Basic challenge, as distribution's
// htpasswd access controller does, unless the request carries the expected
// credentials.
func requireBasicAuth(next http.Handler, user, password string, logger *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if ok &&
			subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(password)) == 1 {
			next.ServeHTTP(w, r)
			return
		}
		logger.Printf("%s %s 401 (credentials %s)", r.Method, r.URL, map[bool]string{true: "wrong", false: "missing"}[ok])
		w.Header().Set("WWW-Authenticate", `Basic realm="ggcr-registry"`)
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"))
	})
}

// conformReferrers rewrites ggcr's answer to GET /v2/<name>/referrers/<digest>
// where it departs from the OCI distribution spec ("Listing Referrers"):
//   - each descriptor's artifactType must be the manifest's artifactType,
//     and config.mediaType only when that is empty (ggcr always uses
//     config.mediaType, so cosign bundles show up as the empty-config type);
//   - a registry with the API must not answer 404 (ggcr does for a
//     repository it has never seen): that is an empty index;
//   - descriptors come in map order; sort them by digest so the answer is
//     stable.
func conformReferrers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := referrersName(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var index map[string]any
		switch {
		case rec.Code == http.StatusNotFound:
			index = map[string]any{
				"schemaVersion": 2,
				"mediaType":     "application/vnd.oci.image.index.v1+json",
				"manifests":     []any{},
			}
		case rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &index) != nil:
			copyResponse(w, rec)
			return
		}
		descs, _ := index["manifests"].([]any)
		for _, d := range descs {
			desc, ok := d.(map[string]any)
			if !ok {
				continue
			}
			digest, _ := desc["digest"].(string)
			if t := manifestArtifactType(next, r, name, digest); t != "" {
				desc["artifactType"] = t
			}
		}
		sort.SliceStable(descs, func(i, j int) bool {
			return descDigest(descs[i]) < descDigest(descs[j])
		})
		index["manifests"] = descs
		body, err := json.Marshal(index)
		if err != nil {
			copyResponse(w, rec)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// referrersName returns <name> of a GET /v2/<name>/referrers/<digest>.
func referrersName(r *http.Request) (string, bool) {
	if r.Method != http.MethodGet {
		return "", false
	}
	elems := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/v2/") || len(elems) < 3 || elems[len(elems)-2] != "referrers" {
		return "", false
	}
	return strings.Join(elems[:len(elems)-2], "/"), true
}

// manifestArtifactType reads a manifest through the wrapped registry and
// returns its artifactType, else its config's media type.
func manifestArtifactType(next http.Handler, orig *http.Request, name, digest string) string {
	req := httptest.NewRequest(http.MethodGet, "/v2/"+name+"/manifests/"+digest, nil)
	req = req.WithContext(orig.Context())
	req.Header.Set("Authorization", orig.Header.Get("Authorization"))
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return ""
	}
	var m struct {
		ArtifactType string `json:"artifactType"`
		Config       struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
	}
	if json.Unmarshal(rec.Body.Bytes(), &m) != nil {
		return ""
	}
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return m.Config.MediaType
}

func descDigest(d any) string {
	m, _ := d.(map[string]any)
	s, _ := m["digest"].(string)
	return s
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = io.Copy(w, bytes.NewReader(rec.Body.Bytes()))
}
