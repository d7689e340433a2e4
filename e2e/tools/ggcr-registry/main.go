// Command ggcr-registry serves the in-memory OCI registry of
// go-containerregistry's pkg/registry, which implements the OCI 1.1
// referrers API (distribution v3 does not), for berth's e2e suite.
//
// It adds what the suite needs around that handler: a listen address,
// optional TLS (optionally requiring a client certificate), optional HTTP
// basic authentication or Bearer token authentication with its own token
// endpoint (see requireToken), and a referrers response that follows the
// distribution spec where ggcr v0.22 does not (see conformReferrers).
package main

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
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
	"sync"
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
	tokenAuth := flag.Bool("token-auth", false, "with -user: answer 401 with a Bearer challenge and issue tokens at /token instead of basic authentication")
	refreshToken := flag.String("refresh-token", "", "with -token-auth: also issue tokens for this OAuth2 refresh token (POST /token)")
	clientCA := flag.String("client-ca", "", "with -tls-cert: require a client certificate signed by a CA in this PEM file")
	flag.Parse()

	if (*certFile == "") != (*keyFile == "") {
		log.Fatal("-tls-cert and -tls-key go together")
	}
	if (*user == "") != (*password == "") {
		log.Fatal("-user and -password go together")
	}
	if *tokenAuth && *user == "" {
		log.Fatal("-token-auth needs -user and -password")
	}
	if *clientCA != "" && *certFile == "" {
		log.Fatal("-client-ca needs -tls-cert")
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
	scheme := "http"
	if *certFile != "" {
		scheme = "https"
	}
	switch {
	case *tokenAuth:
		handler = requireToken(handler, scheme, *user, *password, *refreshToken, logger)
	case *user != "":
		handler = requireBasicAuth(handler, *user, *password, logger)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	if *clientCA != "" {
		pem, err := os.ReadFile(*clientCA)
		if err != nil {
			log.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			log.Fatalf("no certificate in %s", *clientCA)
		}
		server.TLSConfig = &tls.Config{ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	}
	fmt.Fprintf(os.Stderr, "ggcr-registry: serving %s on %s (referrers API: %v, basic auth: %v, token auth: %v, client certificates: %v)\n",
		scheme, ln.Addr(), *referrers, *user != "" && !*tokenAuth, *tokenAuth, *clientCA != "")
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

// requireToken implements the distribution token flow on one listener:
// a request without a valid Bearer token gets
//
//	401 WWW-Authenticate: Bearer realm="<scheme>://<host>/token",service="ggcr-registry",scope="repository:<name>:<actions>"
//
// and GET /token (HTTP basic with the user and password, repeated scope
// parameters) or POST /token (form grant_type=refresh_token with the
// refresh token, or grant_type=password) answers {"token", "access_token",
// "expires_in"}. Tokens are random, valid for five minutes, and grant
// every repository: the suite tests the client's side of the exchange, not
// scope enforcement.
func requireToken(next http.Handler, scheme, user, password, refresh string, logger *log.Logger) http.Handler {
	var mu sync.Mutex
	tokens := map[string]time.Time{}
	issue := func(w http.ResponseWriter) {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok := hex.EncodeToString(b)
		mu.Lock()
		tokens[tok] = time.Now().Add(5 * time.Minute)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "access_token": tok, "expires_in": 300})
	}
	matches := func(u, p string) bool {
		return subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(password)) == 1
	}
	denyToken := func(w http.ResponseWriter, r *http.Request, why string) {
		logger.Printf("%s %s 401 (%s)", r.Method, r.URL.Path, why)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"` + why + `"}]}` + "\n"))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			switch r.Method {
			case http.MethodGet:
				u, p, ok := r.BasicAuth()
				if !ok || !matches(u, p) {
					denyToken(w, r, "bad or missing credentials")
					return
				}
				logger.Printf("GET /token: token for %q (scopes %q, service %q)", u, r.URL.Query()["scope"], r.URL.Query().Get("service"))
				issue(w)
			case http.MethodPost:
				if err := r.ParseForm(); err != nil {
					denyToken(w, r, "bad form")
					return
				}
				switch r.PostForm.Get("grant_type") {
				case "refresh_token":
					rt := r.PostForm.Get("refresh_token")
					if refresh == "" || subtle.ConstantTimeCompare([]byte(rt), []byte(refresh)) != 1 {
						denyToken(w, r, "bad refresh token")
						return
					}
				case "password":
					if !matches(r.PostForm.Get("username"), r.PostForm.Get("password")) {
						denyToken(w, r, "bad credentials")
						return
					}
				default:
					denyToken(w, r, "unsupported grant_type")
					return
				}
				logger.Printf("POST /token: token for grant %q (scope %q, service %q, client_id %q)",
					r.PostForm.Get("grant_type"), r.PostForm.Get("scope"), r.PostForm.Get("service"), r.PostForm.Get("client_id"))
				issue(w)
			default:
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
			return
		}
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			mu.Lock()
			exp, known := tokens[tok]
			mu.Unlock()
			if known && time.Now().Before(exp) {
				next.ServeHTTP(w, r)
				return
			}
		}
		scope := ""
		if name, ok := repositoryName(r.URL.Path); ok {
			actions := "pull"
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				actions = "pull,push"
			}
			scope = fmt.Sprintf(`,scope="repository:%s:%s"`, name, actions)
		}
		logger.Printf("%s %s 401 (no valid token)", r.Method, r.URL)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s://%s/token",service="ggcr-registry"%s`, scheme, r.Host, scope))
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}` + "\n"))
	})
}

// repositoryName returns <name> of /v2/<name>/{manifests,blobs,tags,referrers}/...
func repositoryName(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", false
	}
	elems := strings.Split(rest, "/")
	for i := len(elems) - 1; i > 0; i-- {
		switch elems[i] {
		case "manifests", "blobs", "tags", "referrers":
			return strings.Join(elems[:i], "/"), true
		}
	}
	return "", false
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
