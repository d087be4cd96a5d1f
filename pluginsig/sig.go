// Package pluginsig signs and verifies plugins the way Sigstore's cosign
// does with keys, offline (no transparency log, no network):
//
//   - A plugin in an OCI registry is signed as `cosign sign --key` signs an
//     image: a "simple signing" payload naming the manifest digest, signed
//     with the key, stored in the repository under the tag
//     sha256-<manifest hex>.sig, one layer per signature with the base64
//     signature in the dev.cosignproject.cosign/signature annotation.
//   - A plugin file of a static index is signed as `cosign sign-blob --key`
//     signs a file: a base64 signature, cosign's older bundle JSON, or a
//     Sigstore bundle (`--new-bundle-format`), in a file beside it.
//
// Keys are PEM files as `cosign generate-key-pair` writes them (the private
// key encrypted with a password) or plain PKCS#8, EC and RSA PEM keys. The
// cryptography and formats come from Sigstore's own libraries:
// github.com/sigstore/sigstore (keys, cosign's key encryption, signing and
// verifying, the simple-signing payload) and github.com/sigstore/protobuf-specs
// (the Sigstore bundle). This package puts them together and reports what
// failed, naming the key.
//
// sigstore-go, which also verifies bundles, is not used: its bundle package
// links transparency-log and cloud clients (about 100 more modules, twice the size
// of the driftless binary) for what an offline key signature needs, a
// digest and a signature check.
package pluginsig

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/payload"
	"google.golang.org/protobuf/encoding/protojson"
)

// Bounds on what is read: keys and signatures are small; anything larger
// is not one.
const (
	maxKeySize       = 64 << 10
	MaxSignatureSize = 256 << 10 // a signature file, payload or bundle
)

// PublicKey verifies signatures.
type PublicKey struct {
	// Path is the file the key was read from (for messages).
	Path string
	// Fingerprint is "sha256:" and the hex SHA-256 of the key's DER
	// (SubjectPublicKeyInfo) encoding: what plugins.lock records.
	Fingerprint string

	key      crypto.PublicKey
	verifier signature.Verifier
}

// LoadPublicKey reads a PEM public key file.
func LoadPublicKey(path string) (*PublicKey, error) {
	data, err := readSmall(path, maxKeySize)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return ParsePublicKey(path, data)
}

// ParsePublicKey parses a PEM public key; name is used in messages.
func ParsePublicKey(name string, pemData []byte) (*PublicKey, error) {
	key, err := cryptoutils.UnmarshalPEMToPublicKey(pemData)
	if err != nil {
		return nil, fmt.Errorf("public key %s: not a PEM public key: %w", name, err)
	}
	return newPublicKey(name, key)
}

func newPublicKey(name string, key crypto.PublicKey) (*PublicKey, error) {
	if err := cryptoutils.ValidatePubKey(key); err != nil {
		return nil, fmt.Errorf("public key %s: %w", name, err)
	}
	v, err := signature.LoadVerifier(key, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", name, err)
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(key)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", name, err)
	}
	sum := sha256.Sum256(der)
	return &PublicKey{Path: name, Fingerprint: "sha256:" + hex.EncodeToString(sum[:]), key: key, verifier: v}, nil
}

// String names the key for messages: its file and fingerprint.
func (k *PublicKey) String() string { return fmt.Sprintf("%s (%s)", k.Path, k.Fingerprint) }

// Signer signs with a private key.
type Signer struct {
	// Public is the matching public key.
	Public *PublicKey
	signer signature.Signer
}

// LoadSigner reads a PEM private key: cosign's encrypted format (its
// password from password, asked only then) or a plain PKCS#8, EC or RSA
// key.
func LoadSigner(path string, password func() ([]byte, error)) (*Signer, error) {
	data, err := readSmall(path, maxKeySize)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	pf := func(bool) ([]byte, error) {
		if password == nil {
			return nil, errors.New("the key is encrypted and no password was given")
		}
		return password()
	}
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(data, pf)
	if err != nil {
		if strings.Contains(err.Error(), "decryption failed") {
			err = errors.New("wrong password (decryption failed)")
		}
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	s, err := signature.LoadSigner(priv, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	pub, err := s.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	pk, err := newPublicKey(path, pub)
	if err != nil {
		return nil, err
	}
	return &Signer{Public: pk, signer: s}, nil
}

// Sign signs data (SHA-256 and the key's algorithm).
func (s *Signer) Sign(data []byte) ([]byte, error) {
	return s.signer.SignMessage(bytes.NewReader(data))
}

// Payload is the simple-signing payload cosign signs for the manifest
// manifestDigest of repository (HOST[:PORT]/REPO).
func Payload(repository, manifestDigest string) ([]byte, error) {
	return json.Marshal(payload.SimpleContainerImage{
		Critical: payload.Critical{
			Identity: payload.Identity{DockerReference: repository},
			Image:    payload.Image{DockerManifestDigest: manifestDigest},
			Type:     payload.CosignSignatureType,
		},
	})
}

// OCISignature is one cosign signature layer: its payload and the base64
// signature of its annotation.
type OCISignature struct {
	Payload []byte
	Base64  string
}

// Evidence is what verified a plugin, kept beside the installed plugin so
// that `plugins verify` can check it again offline.
type Evidence struct {
	// Format is "cosign-oci", "cosign-blob" or "sigstore-bundle".
	Format string `json:"format"`
	// Key is the fingerprint of the key that verified it.
	Key string `json:"key"`
	// Manifest is the OCI manifest (cosign-oci): its one layer is the
	// plugin, its digest is what Payload names.
	Manifest []byte `json:"manifest,omitempty"`
	// Payload is the simple-signing payload signed (cosign-oci).
	Payload []byte `json:"payload,omitempty"`
	// Signature is the raw signature (cosign-oci, cosign-blob).
	Signature []byte `json:"signature,omitempty"`
	// Bundle is the Sigstore bundle (sigstore-bundle).
	Bundle json.RawMessage `json:"bundle,omitempty"`
}

// ErrNotSigned is in the chain of errors for a plugin without any
// signature.
var ErrNotSigned = errors.New("no signature")

// VerifyOCI checks that one of sigs is key's signature of a payload naming
// the digest of manifest, and that manifest's single layer is the wasm
// whose hex SHA-256 is wasmSHA256. It returns the evidence of the first
// that verifies, or an error saying why none did.
func VerifyOCI(key *PublicKey, wasmSHA256 string, manifest []byte, sigs []OCISignature) (*Evidence, error) {
	if len(sigs) == 0 {
		return nil, ErrNotSigned
	}
	md := sha256.Sum256(manifest)
	manifestDigest := "sha256:" + hex.EncodeToString(md[:])
	if err := checkManifestLayer(manifest, wasmSHA256); err != nil {
		return nil, err
	}
	var reasons []string
	for i, s := range sigs {
		sig, err := base64.StdEncoding.DecodeString(s.Base64)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("signature %d: not base64", i+1))
			continue
		}
		ev := &Evidence{Format: "cosign-oci", Key: key.Fingerprint, Manifest: manifest, Payload: s.Payload, Signature: sig}
		if err := ev.verifyOCI(key, manifestDigest); err != nil {
			reasons = append(reasons, fmt.Sprintf("signature %d: %v", i+1, err))
			continue
		}
		return ev, nil
	}
	return nil, fmt.Errorf("no valid signature by %s: %s", key, strings.Join(reasons, "; "))
}

func (ev *Evidence) verifyOCI(key *PublicKey, manifestDigest string) error {
	if err := key.verifier.VerifySignature(bytes.NewReader(ev.Signature), bytes.NewReader(ev.Payload)); err != nil {
		return errors.New("not signed by this key, or over other bytes")
	}
	if len(ev.Payload) > MaxSignatureSize {
		return fmt.Errorf("payload over %d bytes", MaxSignatureSize)
	}
	var p payload.SimpleContainerImage
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return fmt.Errorf("payload is not cosign's simple signing JSON: %v", err)
	}
	if p.Critical.Type != payload.CosignSignatureType {
		return fmt.Errorf("payload type %q is not %q", p.Critical.Type, payload.CosignSignatureType)
	}
	if p.Critical.Image.DockerManifestDigest != manifestDigest {
		return fmt.Errorf("signs manifest %s, not %s", p.Critical.Image.DockerManifestDigest, manifestDigest)
	}
	return nil
}

// checkManifestLayer checks that the manifest's only layer is the wasm.
func checkManifestLayer(manifest []byte, wasmSHA256 string) error {
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("manifest is not JSON: %v", err)
	}
	if len(m.Layers) != 1 || m.Layers[0].Digest != "sha256:"+wasmSHA256 {
		return fmt.Errorf("the signed manifest's layer is not this plugin (sha256:%s)", wasmSHA256)
	}
	return nil
}

// VerifyBlob checks sigFile, the signature file of a plugin of a static
// index (a base64 signature, cosign's bundle JSON, or a Sigstore bundle),
// against the wasm bytes and key.
func VerifyBlob(key *PublicKey, wasm []byte, sigFile []byte) (*Evidence, error) {
	if len(bytes.TrimSpace(sigFile)) == 0 {
		return nil, ErrNotSigned
	}
	if len(sigFile) > MaxSignatureSize {
		return nil, fmt.Errorf("signature file over %d bytes", MaxSignatureSize)
	}
	ev, err := blobEvidence(key, sigFile)
	if err != nil {
		return nil, err
	}
	if err := ev.verifyBlob(key, wasm); err != nil {
		return nil, err
	}
	return ev, nil
}

// blobEvidence tells the three formats of a blob signature apart.
func blobEvidence(key *PublicKey, sigFile []byte) (*Evidence, error) {
	trimmed := bytes.TrimSpace(sigFile)
	if trimmed[0] != '{' {
		sig, err := base64.StdEncoding.DecodeString(string(trimmed))
		if err != nil {
			return nil, errors.New("signature file is neither base64 nor a bundle")
		}
		return &Evidence{Format: "cosign-blob", Key: key.Fingerprint, Signature: sig}, nil
	}
	var probe struct {
		MediaType       string `json:"mediaType"`
		Base64Signature string `json:"base64Signature"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return nil, fmt.Errorf("signature bundle is not JSON: %v", err)
	}
	switch {
	case probe.MediaType != "":
		return &Evidence{Format: "sigstore-bundle", Key: key.Fingerprint, Bundle: json.RawMessage(trimmed)}, nil
	case probe.Base64Signature != "":
		sig, err := base64.StdEncoding.DecodeString(probe.Base64Signature)
		if err != nil {
			return nil, errors.New("cosign bundle's base64Signature is not base64")
		}
		return &Evidence{Format: "cosign-blob", Key: key.Fingerprint, Signature: sig}, nil
	}
	return nil, errors.New("signature file is JSON but neither a Sigstore bundle (mediaType) nor a cosign bundle (base64Signature)")
}

func (ev *Evidence) verifyBlob(key *PublicKey, wasm []byte) error {
	switch ev.Format {
	case "cosign-blob":
		if err := key.verifier.VerifySignature(bytes.NewReader(ev.Signature), bytes.NewReader(wasm)); err != nil {
			return fmt.Errorf("signature is not by %s, or is over other bytes", key)
		}
		return nil
	case "sigstore-bundle":
		return verifyBundle(key, wasm, ev.Bundle)
	}
	return fmt.Errorf("unknown signature format %q", ev.Format)
}

// verifyBundle checks a Sigstore bundle of a message signature made with a
// key (`cosign sign-blob --key … --new-bundle-format`): the digest it signs
// is the wasm's, and the signature is key's. Transparency-log entries and
// timestamps it may carry are not needed offline and not checked; a bundle
// signed with a certificate (keyless) or over a DSSE envelope is refused.
func verifyBundle(key *PublicKey, wasm, data []byte) error {
	var b protobundle.Bundle
	if err := protojson.Unmarshal(data, &b); err != nil {
		return fmt.Errorf("not a valid Sigstore bundle: %v", err)
	}
	if !strings.HasPrefix(b.GetMediaType(), "application/vnd.dev.sigstore.bundle") {
		return fmt.Errorf("not a Sigstore bundle: media type %q", b.GetMediaType())
	}
	if b.GetVerificationMaterial().GetPublicKey() == nil {
		return errors.New("the Sigstore bundle is signed with a certificate (keyless), not a key: driftless verifies key signatures")
	}
	ms := b.GetMessageSignature()
	if ms == nil {
		return errors.New("the Sigstore bundle holds no message signature (a DSSE attestation is not a plugin signature)")
	}
	sum := sha256.Sum256(wasm)
	if d := ms.GetMessageDigest(); d != nil && (d.GetAlgorithm() != protocommon.HashAlgorithm_SHA2_256 || !bytes.Equal(d.GetDigest(), sum[:])) {
		return fmt.Errorf("the Sigstore bundle signs other bytes (digest %s %x)", d.GetAlgorithm(), d.GetDigest())
	}
	if err := key.verifier.VerifySignature(bytes.NewReader(ms.GetSignature()), bytes.NewReader(wasm)); err != nil {
		return fmt.Errorf("Sigstore bundle does not verify with %s: not its signature, or over other bytes", key)
	}
	return nil
}

// Check verifies evidence kept at install again: the same key (by
// fingerprint) and the same bytes.
func (ev *Evidence) Check(key *PublicKey, wasm []byte) error {
	if ev.Key != key.Fingerprint {
		return fmt.Errorf("was verified by key %s, not %s", ev.Key, key)
	}
	sum := sha256.Sum256(wasm)
	switch ev.Format {
	case "cosign-oci":
		if err := checkManifestLayer(ev.Manifest, hex.EncodeToString(sum[:])); err != nil {
			return err
		}
		md := sha256.Sum256(ev.Manifest)
		return ev.verifyOCI(key, "sha256:"+hex.EncodeToString(md[:]))
	default:
		return ev.verifyBlob(key, wasm)
	}
}

// SignBlob returns the cosign sign-blob signature file (base64) of wasm.
func (s *Signer) SignBlob(wasm []byte) ([]byte, error) {
	sig, err := s.signer.SignMessage(bytes.NewReader(wasm))
	if err != nil {
		return nil, err
	}
	return []byte(base64.StdEncoding.EncodeToString(sig)), nil
}

// readSmall reads a regular file of at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("over %d bytes: not a key", max)
	}
	return data, nil
}
