#include "kvstore/s3_xml.h"

#include <cstdint>
#include <cstdlib>

namespace stowage::kvstore::s3 {
namespace {

void AppendUtf8(std::uint32_t code, std::string& out) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code >> 6)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (code >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

// Decodes the entity `name` (between '&' and ';'); false when unknown.
bool DecodeEntity(std::string_view name, std::string& out) {
  if (name == "amp") return out.push_back('&'), true;
  if (name == "lt") return out.push_back('<'), true;
  if (name == "gt") return out.push_back('>'), true;
  if (name == "quot") return out.push_back('"'), true;
  if (name == "apos") return out.push_back('\''), true;
  if (name.size() < 2 || name[0] != '#') return false;
  bool hex = name[1] == 'x' || name[1] == 'X';
  std::string digits(name.substr(hex ? 2 : 1));
  if (digits.empty() || digits.size() > 8) return false;
  char* end = nullptr;
  unsigned long code = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
  if (*end != '\0') return false;
  AppendUtf8(static_cast<std::uint32_t>(code), out);
  return true;
}

// True when `xml` at `pos` opens element `name` ("<name>" or "<name attr...>").
bool OpensElement(std::string_view xml, std::size_t pos, std::string_view name) {
  if (xml.compare(pos + 1, name.size(), name) != 0) return false;
  std::size_t after = pos + 1 + name.size();
  if (after >= xml.size()) return false;
  char c = xml[after];
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

std::string XmlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      std::size_t semi = text.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 10 &&
          DecodeEntity(text.substr(i + 1, semi - i - 1), out)) {
        i = semi;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::vector<std::string> XmlElements(std::string_view xml, std::string_view name) {
  std::vector<std::string> values;
  std::string closing = "</" + std::string(name) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string_view::npos) {
    if (!OpensElement(xml, pos, name)) {
      ++pos;
      continue;
    }
    std::size_t tag_end = xml.find('>', pos);
    if (tag_end == std::string_view::npos) break;
    if (xml[tag_end - 1] == '/') {  // <name/>
      values.emplace_back();
      pos = tag_end + 1;
      continue;
    }
    std::size_t close = xml.find(closing, tag_end + 1);
    if (close == std::string_view::npos) break;
    values.push_back(XmlDecode(xml.substr(tag_end + 1, close - tag_end - 1)));
    pos = close + closing.size();
  }
  return values;
}

std::optional<std::string> XmlElement(std::string_view xml, std::string_view name) {
  auto values = XmlElements(xml, name);
  if (values.empty()) return std::nullopt;
  return values.front();
}

}  // namespace stowage::kvstore::s3
