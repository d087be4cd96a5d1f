package pluginsig

import (
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"google.golang.org/protobuf/encoding/protojson"
)

// keyPair writes a cosign-format key pair (the private key encrypted with
// password) into dir and returns the paths.
func keyPair(t *testing.T, dir, name, password string) (priv, pub string) {
	t.Helper()
	privPEM, pubPEM, err := cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), cryptoutils.StaticPasswordFunc([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(priv, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func password(p string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(p), nil }
}

var wasm = []byte("\x00asm\x0d\x00\x01\x00 a component's bytes")

func TestKeys(t *testing.T) {
	dir := t.TempDir()
	priv, pub := keyPair(t, dir, "k", "s3cret")
	s, err := LoadSigner(priv, password("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if s.Public.Fingerprint != k.Fingerprint || !strings.HasPrefix(k.Fingerprint, "sha256:") || len(k.Fingerprint) != 71 {
		t.Errorf("fingerprints %s %s", s.Public.Fingerprint, k.Fingerprint)
	}
	if _, err := LoadSigner(priv, password("wrong")); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := LoadSigner(priv, nil); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("no password: %v", err)
	}
	if _, err := LoadPublicKey(priv); err == nil || !strings.Contains(err.Error(), "not a PEM public key") {
		t.Errorf("private key as public: %v", err)
	}
	if _, err := LoadPublicKey(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	big := filepath.Join(dir, "big.pub")
	os.WriteFile(big, make([]byte, maxKeySize+1), 0o644)
	if _, err := LoadPublicKey(big); err == nil || !strings.Contains(err.Error(), "over 65536 bytes") {
		t.Errorf("big: %v", err)
	}
}

func TestBlobSignatures(t *testing.T) {
	dir := t.TempDir()
	priv, pub := keyPair(t, dir, "author", "pw")
	_, otherPub := keyPair(t, dir, "other", "pw")
	s, _ := LoadSigner(priv, password("pw"))
	k, _ := LoadPublicKey(pub)
	other, _ := LoadPublicKey(otherPub)

	sigFile, err := s.SignBlob(wasm)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := VerifyBlob(k, wasm, sigFile)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Format != "cosign-blob" || ev.Key != k.Fingerprint {
		t.Errorf("evidence %+v", ev)
	}
	if err := ev.Check(k, wasm); err != nil {
		t.Errorf("check: %v", err)
	}
	if err := ev.Check(other, wasm); err == nil || !strings.Contains(err.Error(), "was verified by key "+k.Fingerprint) {
		t.Errorf("check with another key: %v", err)
	}

	// cosign's older bundle JSON carries the same signature.
	legacy, _ := json.Marshal(map[string]string{"base64Signature": string(sigFile)})
	if _, err := VerifyBlob(k, wasm, legacy); err != nil {
		t.Errorf("cosign bundle: %v", err)
	}

	// A Sigstore bundle, as cosign sign-blob --new-bundle-format writes it
	// (the interop tests of cmd/driftless use cosign's own).
	bpriv, bpub := keyPair(t, dir, "bundler", "pw")
	bs, _ := LoadSigner(bpriv, password("pw"))
	bk, _ := LoadPublicKey(bpub)
	bundleJSON := bundleOf(t, bs, wasm, nil)
	if ev, err := VerifyBlob(bk, wasm, bundleJSON); err != nil || ev.Format != "sigstore-bundle" {
		t.Errorf("sigstore bundle: %+v %v", ev, err)
	} else if err := ev.Check(bk, wasm); err != nil {
		t.Errorf("sigstore bundle check: %v", err)
	}
	otherDigest := bundleOf(t, bs, wasm, nil)
	otherDigest = []byte(strings.Replace(string(otherDigest), base64.StdEncoding.EncodeToString(sha256Sum(wasm)), base64.StdEncoding.EncodeToString(sha256Sum([]byte("x"))), 1))
	keyless := bundleOf(t, bs, wasm, &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: []byte{0}}})

	tampered := append([]byte{}, wasm...)
	tampered[len(tampered)-1] ^= 1
	cases := []struct {
		name string
		key  *PublicKey
		wasm []byte
		sig  []byte
		want string
	}{
		{"wrong key", other, wasm, sigFile, "signature is not by " + otherPub},
		{"other bytes", k, tampered, sigFile, "signature is not by " + pub},
		{"empty", k, wasm, []byte("\n"), "no signature"},
		{"garbage", k, wasm, []byte("%%%"), "signature file is neither base64 nor a bundle"},
		{"unknown JSON", k, wasm, []byte(`{"x":1}`), "neither a Sigstore bundle"},
		{"bundle wrong key", k, wasm, bundleJSON, "Sigstore bundle does not verify with " + pub},
		{"bundle other bytes", bk, tampered, bundleJSON, "the Sigstore bundle signs other bytes"},
		{"bundle other digest", bk, wasm, otherDigest, "the Sigstore bundle signs other bytes"},
		{"bundle keyless", bk, wasm, keyless, "signed with a certificate (keyless), not a key"},
		{"bundle not a bundle", bk, wasm, []byte(`{"mediaType": "x", "content": 7}`), "not a valid Sigstore bundle"},
		{"huge", k, wasm, make([]byte, MaxSignatureSize+1), "signature file over"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "huge" {
				for i := range c.sig {
					c.sig[i] = 'A'
				}
			}
			_, err := VerifyBlob(c.key, c.wasm, c.sig)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	if _, err := VerifyBlob(k, wasm, nil); !errors.Is(err, ErrNotSigned) {
		t.Errorf("nil signature: %v", err)
	}
}

func TestOCISignatures(t *testing.T) {
	dir := t.TempDir()
	priv, pub := keyPair(t, dir, "author", "pw")
	_, otherPub := keyPair(t, dir, "other", "pw")
	s, _ := LoadSigner(priv, password("pw"))
	k, _ := LoadPublicKey(pub)
	other, _ := LoadPublicKey(otherPub)

	ws := sha256.Sum256(wasm)
	wasmHex := hex.EncodeToString(ws[:])
	manifest := []byte(`{"schemaVersion":2,"layers":[{"mediaType":"application/wasm","digest":"sha256:` + wasmHex + `","size":1}]}`)
	md := sha256.Sum256(manifest)
	manifestDigest := "sha256:" + hex.EncodeToString(md[:])
	payload, err := Payload("registry.example/plugins/hello", manifestDigest)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := s.Sign(payload)
	good := OCISignature{Payload: payload, Base64: base64.StdEncoding.EncodeToString(sig)}

	ev, err := VerifyOCI(k, wasmHex, manifest, []OCISignature{{Payload: payload, Base64: "!!"}, good})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Check(k, wasm); err != nil {
		t.Errorf("check: %v", err)
	}

	otherPayload, _ := Payload("registry.example/plugins/hello", "sha256:"+strings.Repeat("0", 64))
	otherSig, _ := s.Sign(otherPayload)
	otherManifest := []byte(`{"layers":[{"digest":"sha256:` + strings.Repeat("1", 64) + `"}]}`)
	cases := []struct {
		name     string
		key      *PublicKey
		manifest []byte
		sigs     []OCISignature
		want     string
	}{
		{"none", k, manifest, nil, "no signature"},
		{"wrong key", other, manifest, []OCISignature{good}, "no valid signature by " + otherPub + " (sha256:"},
		{"other manifest", k, manifest, []OCISignature{{Payload: otherPayload, Base64: base64.StdEncoding.EncodeToString(otherSig)}},
			"signature 1: signs manifest sha256:0000"},
		{"payload swapped", k, manifest, []OCISignature{{Payload: otherPayload, Base64: good.Base64}}, "not signed by this key, or over other bytes"},
		{"manifest of another plugin", k, otherManifest, []OCISignature{good}, "the signed manifest's layer is not this plugin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := VerifyOCI(c.key, wasmHex, c.manifest, c.sigs)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// bundleOf is the Sigstore bundle (v0.3, a message signature with a key
// hint, or with material) of s's signature over wasm.
func bundleOf(t *testing.T, s *Signer, wasm []byte, material any) []byte {
	t.Helper()
	sig, err := s.Sign(wasm)
	if err != nil {
		t.Fatal(err)
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "hint"}},
	}
	if c, ok := material.(*protobundle.VerificationMaterial_Certificate); ok {
		vm.Content = c
	}
	b := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sha256Sum(wasm)},
			Signature:     sig,
		}},
	}
	data, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
