package registry

import (
	"encoding/json"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Cosign's layout of signatures in an OCI repository, which Publish writes
// and Signatures reads (package pluginsig verifies them).
const (
	// CosignPayloadMediaType is the media type of a signature layer: the
	// "simple signing" payload that was signed.
	CosignPayloadMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// CosignSignatureAnnotation holds a layer's base64 signature.
	CosignSignatureAnnotation = "dev.cosignproject.cosign/signature"
	// MaxSignatureSize bounds a signature file, payload or bundle read.
	MaxSignatureSize = 256 << 10
)

// CosignSignatureTag is the tag cosign stores the signatures of the
// manifest manifestDigest ("sha256:<hex>") under: sha256-<hex>.sig.
func CosignSignatureTag(manifestDigest string) string {
	return strings.Replace(manifestDigest, ":", "-", 1) + ".sig"
}

// OCISignature is one cosign signature layer: the payload signed and the
// base64 signature of its annotation.
type OCISignature struct {
	Payload []byte
	Base64  string
}

// Signer signs what Publish publishes (pluginsig.Signer is one): the
// cosign payload of an OCI manifest, or a static index's wasm file.
type Signer interface {
	// Sign returns the raw signature of data.
	Sign(data []byte) ([]byte, error)
}

// cosignPayload is the simple-signing payload cosign signs for the
// manifest manifestDigest of repository (HOST[:PORT]/REPO).
func cosignPayload(repository, manifestDigest string) ([]byte, error) {
	return json.Marshal(payload.SimpleContainerImage{
		Critical: payload.Critical{
			Identity: payload.Identity{DockerReference: repository},
			Image:    payload.Image{DockerManifestDigest: manifestDigest},
			Type:     payload.CosignSignatureType,
		},
	})
}
