// The few elements stowage reads from S3's XML responses (ListObjectsV2,
// InitiateMultipartUpload, errors), found by a small tolerant scanner: no
// schema, no namespaces, entities decoded. Malformed input yields fewer
// elements, never a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stowage::kvstore::s3 {

// The decoded text of every element named `name` (e.g. "Key"), in document
// order. Elements with attributes count; self-closing ones yield "".
std::vector<std::string> XmlElements(std::string_view xml, std::string_view name);

// The text of the first element named `name`, if any.
std::optional<std::string> XmlElement(std::string_view xml, std::string_view name);

// `text` with &amp; &lt; &gt; &quot; &apos; and &#N; / &#xH; decoded.
std::string XmlDecode(std::string_view text);

// `text` with & < > " ' escaped, for request bodies.
std::string XmlEscape(std::string_view text);

}  // namespace stowage::kvstore::s3
