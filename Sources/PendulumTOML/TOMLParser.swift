/// A TOML document parser for configuration files, written for this project because the
/// library we used (TOMLKit, wrapping toml++) aborts on a lone `[` line in debug builds and
/// has undefined behaviour on it in release builds (its assertions become assumptions), and
/// leaks memory per parse. This one is total: any bytes give a table or a `TOMLParseError`
/// with a line number, never a trap; it is fuzzed (Fuzz/TOMLDocumentParser.swift).
///
/// Supported: comments, bare/quoted/dotted keys, `[table]`, `[[array of tables]]`, basic and
/// literal strings (one line), integers (decimal with `_`, `0x`/`0o`/`0b`), floats (with
/// `inf`/`nan`), booleans, arrays (over several lines), inline tables. Not supported, each
/// with its own error: multi-line strings and dates/times (no configuration key takes them).
public enum TOMLParser {
    public static func parse(_ text: String) throws(TOMLParseError) -> TOMLTable {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }
}

public struct TOMLParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

private struct Parser {
    let bytes: [UInt8]
    var index = 0
    var line = 1
    var root = TOMLTable()
    /// The table key/value lines go into: set by the last header.
    var currentPath: [String] = []
    /// Paths created by `[[…]]`: only those may be appended to.
    var tableArrays: Set<[String]> = []
    /// Nesting depth of arrays and inline tables, bounded so hostile input cannot exhaust the stack.
    var depth = 0
    static let maximumDepth = 64

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func fail(_ message: String) -> TOMLParseError { TOMLParseError(line: line, message: message) }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    mutating func advance() {
        if current == UInt8(ascii: "\n") { line += 1 }
        index += 1
    }

    mutating func skipSpaces() {
        while let byte = current, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
    }

    /// Spaces, then an optional comment, then the end of the line (or of the input).
    mutating func endOfLine() throws(TOMLParseError) {
        skipSpaces()
        if current == UInt8(ascii: "#") { try skipComment() }
        if current == UInt8(ascii: "\r"), peek(1) == UInt8(ascii: "\n") { index += 1 }
        guard let byte = current else { return }
        guard byte == UInt8(ascii: "\n") else { throw fail("expected the end of the line, found \(describe(byte))") }
        advance()
    }

    mutating func skipComment() throws(TOMLParseError) {
        while let byte = current, byte != UInt8(ascii: "\n") {
            if byte < 0x20 && byte != UInt8(ascii: "\t") && !(byte == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n")) {
                throw fail("control character \(describe(byte)) in a comment")
            }
            index += 1
        }
    }

    /// Whitespace, comments and newlines (inside arrays).
    mutating func skipBlank() throws(TOMLParseError) {
        while let byte = current {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"): advance()
            case UInt8(ascii: "\r") where peek(1) == UInt8(ascii: "\n"): index += 1
            case UInt8(ascii: "#"): try skipComment()
            default: return
            }
        }
    }

    func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(UnicodeScalar(byte)))'" }
        if byte == UInt8(ascii: "\n") { return "a line break" }
        return "byte 0x" + String(byte, radix: 16)
    }

    // MARK: Document structure

    mutating func document() throws(TOMLParseError) -> TOMLTable {
        while true {
            try skipBlank()
            guard let byte = current else { return root }
            if byte == UInt8(ascii: "[") {
                try header()
            } else {
                try keyValue()
            }
        }
    }

    mutating func header() throws(TOMLParseError) {
        let headerLine = line
        advance()
        let isArray = current == UInt8(ascii: "[")
        if isArray { advance() }
        skipSpaces()
        let path = try key()
        skipSpaces()
        guard current == UInt8(ascii: "]") else { throw fail("expected ']' to close the table header") }
        advance()
        if isArray {
            guard current == UInt8(ascii: "]") else { throw fail("expected ']]' to close the array-of-tables header") }
            advance()
        }
        try endOfLine()
        if isArray {
            try appendTable(at: path, line: headerLine)
        } else {
            try defineTable(at: path, line: headerLine)
        }
        currentPath = path
    }

    mutating func keyValue() throws(TOMLParseError) {
        let keyLine = line
        let path = try key()
        skipSpaces()
        guard current == UInt8(ascii: "=") else {
            throw fail(current.map { "expected '=' after the key, found \(describe($0))" } ?? "expected '=' after the key")
        }
        advance()
        skipSpaces()
        let node = try value()
        try endOfLine()
        try insert(node, at: currentPath, key: path, line: keyLine)
    }

    // MARK: Keys

    mutating func key() throws(TOMLParseError) -> [String] {
        var parts = [try simpleKey()]
        while true {
            skipSpaces()
            guard current == UInt8(ascii: ".") else { return parts }
            advance()
            skipSpaces()
            parts.append(try simpleKey())
        }
    }

    mutating func simpleKey() throws(TOMLParseError) -> String {
        guard let byte = current else { throw fail("expected a key") }
        if byte == UInt8(ascii: "\"") { return try basicString() }
        if byte == UInt8(ascii: "'") { return try literalString() }
        let start = index
        while let character = current, Self.isBareKeyCharacter(character) { index += 1 }
        guard index > start else { throw fail("expected a key, found \(describe(byte))") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    static func isBareKeyCharacter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    // MARK: Values

    mutating func value() throws(TOMLParseError) -> TOMLNode {
        let valueLine = line
        guard let byte = current else { throw fail("expected a value") }
        switch byte {
        case UInt8(ascii: "\""):
            if peek(1) == UInt8(ascii: "\""), peek(2) == UInt8(ascii: "\"") { throw fail("multi-line strings are not supported in this file") }
            return TOMLNode(.string(try basicString()), line: valueLine)
        case UInt8(ascii: "'"):
            if peek(1) == UInt8(ascii: "'"), peek(2) == UInt8(ascii: "'") { throw fail("multi-line strings are not supported in this file") }
            return TOMLNode(.string(try literalString()), line: valueLine)
        case UInt8(ascii: "["):
            return TOMLNode(.array(try array()), line: valueLine)
        case UInt8(ascii: "{"):
            return TOMLNode(.table(try inlineTable()), line: valueLine)
        default:
            return TOMLNode(try scalar(), line: valueLine)
        }
    }

    mutating func basicString() throws(TOMLParseError) -> String {
        advance()  // opening quote
        var scalars = String.UnicodeScalarView()
        var start = index
        func flush(_ parser: Parser, into scalars: inout String.UnicodeScalarView, from start: Int) {
            scalars.append(contentsOf: String(decoding: parser.bytes[start..<parser.index], as: UTF8.self).unicodeScalars)
        }
        while true {
            guard let byte = current else { throw fail("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                flush(self, into: &scalars, from: start)
                advance()
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush(self, into: &scalars, from: start)
                advance()
                scalars.append(try escape())
                start = index
            case UInt8(ascii: "\n"):
                throw fail("unterminated string (a line break inside \"…\")")
            case 0x00..<0x20 where byte != UInt8(ascii: "\t"), 0x7F:
                throw fail("control character \(describe(byte)) in a string: write it as an escape")
            default:
                index += 1
            }
        }
    }

    mutating func escape() throws(TOMLParseError) -> UnicodeScalar {
        guard let byte = current else { throw fail("unterminated escape") }
        advance()
        switch byte {
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "u"): return try unicodeEscape(digits: 4)
        case UInt8(ascii: "U"): return try unicodeEscape(digits: 8)
        default: throw fail("unknown escape \\\(Character(UnicodeScalar(byte)))")
        }
    }

    mutating func unicodeEscape(digits: Int) throws(TOMLParseError) -> UnicodeScalar {
        var code: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = current, let digit = Self.hexValue(byte) else { throw fail("\\u and \\U take \(digits) hex digits") }
            code = code << 4 | UInt32(digit)
            index += 1
        }
        guard let scalar = UnicodeScalar(code) else { throw fail("\\u escape is not a Unicode scalar value") }
        return scalar
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    mutating func literalString() throws(TOMLParseError) -> String {
        advance()
        let start = index
        while true {
            guard let byte = current else { throw fail("unterminated string") }
            if byte == UInt8(ascii: "'") { break }
            if byte == UInt8(ascii: "\n") { throw fail("unterminated string (a line break inside '…')") }
            if (byte < 0x20 && byte != UInt8(ascii: "\t")) || byte == 0x7F { throw fail("control character \(describe(byte)) in a string") }
            index += 1
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        advance()
        return text
    }

    mutating func array() throws(TOMLParseError) -> [TOMLNode] {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw fail("arrays and inline tables nested more than \(Self.maximumDepth) deep") }
        advance()
        var elements: [TOMLNode] = []
        while true {
            try skipBlank()
            guard let byte = current else { throw fail("unterminated array: expected ']'") }
            if byte == UInt8(ascii: "]") {
                advance()
                return elements
            }
            elements.append(try value())
            try skipBlank()
            guard let next = current else { throw fail("unterminated array: expected ']'") }
            if next == UInt8(ascii: ",") {
                advance()
            } else if next != UInt8(ascii: "]") {
                throw fail("expected ',' or ']' in an array, found \(describe(next))")
            }
        }
    }

    mutating func inlineTable() throws(TOMLParseError) -> TOMLTable {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw fail("arrays and inline tables nested more than \(Self.maximumDepth) deep") }
        advance()
        var table = TOMLTable()
        table.isExplicit = true
        skipSpaces()
        if current == UInt8(ascii: "}") {
            advance()
            return table
        }
        while true {
            skipSpaces()
            let keyLine = line
            let path = try key()
            skipSpaces()
            guard current == UInt8(ascii: "=") else { throw fail("expected '=' in an inline table") }
            advance()
            skipSpaces()
            let node = try value()
            try Self.insert(node, into: &table, key: path[...], line: keyLine, fail: fail)
            skipSpaces()
            guard let byte = current else { throw fail("unterminated inline table: expected '}'") }
            advance()
            if byte == UInt8(ascii: "}") { return table }
            guard byte == UInt8(ascii: ",") else { throw fail("expected ',' or '}' in an inline table, found \(describe(byte))") }
        }
    }

    /// Booleans, numbers, and a clear refusal for dates and times.
    mutating func scalar() throws(TOMLParseError) -> TOMLNode.Value {
        let start = index
        while let byte = current, Self.isScalarCharacter(byte) { index += 1 }
        let token = String(decoding: bytes[start..<index], as: UTF8.self)
        guard !token.isEmpty else { throw fail(current.map { "expected a value, found \(describe($0))" } ?? "expected a value") }
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if token.contains(":") || (token.count >= 8 && token.dropFirst(4).first == "-" && token.prefix(4).allSatisfy(\.isNumber)) {
            throw fail("dates and times are not supported in this file")
        }
        if let integer = Self.integer(token) { return .integer(integer) }
        if let float = Self.float(token) { return .float(float) }
        throw fail("\"\(token)\" is not a value (strings need quotes)")
    }

    static func isScalarCharacter(_ byte: UInt8) -> Bool {
        isBareKeyCharacter(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    /// Digits with single underscores between them; nil if `text` is anything else.
    static func digitsWithoutUnderscores(_ text: Substring, isDigit: (Character) -> Bool) -> String? {
        guard let first = text.first, let last = text.last, isDigit(first), isDigit(last) else { return nil }
        var result = ""
        var previousUnderscore = false
        for character in text {
            if character == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            guard isDigit(character) else { return nil }
            previousUnderscore = false
            result.append(character)
        }
        return result
    }

    static func integer(_ token: String) -> Int64? {
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where token.hasPrefix(prefix) {
            let body = token.dropFirst(2)
            guard let digits = digitsWithoutUnderscores(body, isDigit: { $0.isHexDigit && Int(String($0), radix: radix) != nil }) else { return nil }
            return Int64(digits, radix: radix)
        }
        var body = Substring(token)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        guard let digits = digitsWithoutUnderscores(body, isDigit: { $0.isASCII && $0.isNumber }) else { return nil }
        guard digits == "0" || !digits.hasPrefix("0") else { return nil }  // no leading zeros
        return Int64(sign + digits)
    }

    static func float(_ token: String) -> Double? {
        var body = Substring(token)
        var sign = ""
        if let first = body.first, first == "+" || first == "-" {
            sign = first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        let lower = body.lowercased()
        let parts = lower.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
        guard let mantissa = parts.first else { return nil }
        let fraction = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let integerPart = fraction.first,
              let integerDigits = digitsWithoutUnderscores(integerPart, isDigit: { $0.isASCII && $0.isNumber }),
              integerDigits == "0" || !integerDigits.hasPrefix("0")
        else { return nil }
        var text = sign + integerDigits
        if fraction.count == 2 {
            guard let fractionDigits = digitsWithoutUnderscores(fraction[1], isDigit: { $0.isASCII && $0.isNumber }) else { return nil }
            text += "." + fractionDigits
        }
        if parts.count == 2 {
            var exponent = parts[1]
            var exponentSign = ""
            if let first = exponent.first, first == "+" || first == "-" {
                exponentSign = String(first)
                exponent = exponent.dropFirst()
            }
            guard let exponentDigits = digitsWithoutUnderscores(exponent, isDigit: { $0.isASCII && $0.isNumber }) else { return nil }
            text += "e" + exponentSign + exponentDigits
        }
        guard fraction.count == 2 || parts.count == 2 else { return nil }
        return Double(text)
    }

    // MARK: Building the tables

    /// Runs `body` on the table at `path`, creating implied tables on the way; an array of
    /// tables on the way means its last element.
    static func modify(
        _ table: inout TOMLTable, path: ArraySlice<String>, line: Int, fail: (String) -> TOMLParseError,
        _ body: (inout TOMLTable) throws(TOMLParseError) -> Void
    ) throws(TOMLParseError) {
        guard let first = path.first else {
            try body(&table)
            return
        }
        switch table[first]?.value {
        case nil:
            var child = TOMLTable()
            try modify(&child, path: path.dropFirst(), line: line, fail: fail, body)
            table[first] = TOMLNode(.table(child), line: line)
        case .table(var child)?:
            try modify(&child, path: path.dropFirst(), line: line, fail: fail, body)
            table[first]?.value = .table(child)
        case .array(var elements)?:
            guard let last = elements.indices.last, case .table(var child) = elements[last].value, !child.isInlineArrayElement else {
                throw fail("\(first) is not a table")
            }
            try modify(&child, path: path.dropFirst(), line: line, fail: fail, body)
            elements[last].value = .table(child)
            table[first]?.value = .array(elements)
        default:
            throw fail("\(first) is already a value, not a table")
        }
    }

    mutating func defineTable(at path: [String], line headerLine: Int) throws(TOMLParseError) {
        guard let last = path.last else { return }
        let failing = fail
        let isArrayOfTables = tableArrays.contains(path)
        try Self.modify(&root, path: path.dropLast(), line: headerLine, fail: failing) { (parent: inout TOMLTable) throws(TOMLParseError) in
            switch parent[last]?.value {
            case nil:
                var table = TOMLTable()
                table.isExplicit = true
                parent[last] = TOMLNode(.table(table), line: headerLine)
            case .table(var table)?:
                guard !table.isExplicit, !table.isDottedKeyTable else { throw failing("table [\(path.joined(separator: "."))] is defined twice") }
                table.isExplicit = true
                parent[last] = TOMLNode(.table(table), line: headerLine)
            case .array? where isArrayOfTables:
                throw failing("[\(path.joined(separator: "."))] is an array of tables: write [[\(path.joined(separator: "."))]]")
            default:
                throw failing("\(last) is already a value, not a table")
            }
        }
    }

    mutating func appendTable(at path: [String], line headerLine: Int) throws(TOMLParseError) {
        guard let last = path.last else { return }
        let failing = fail
        let known = tableArrays.contains(path)
        try Self.modify(&root, path: path.dropLast(), line: headerLine, fail: failing) { (parent: inout TOMLTable) throws(TOMLParseError) in
            var table = TOMLTable()
            table.isExplicit = true
            let element = TOMLNode(.table(table), line: headerLine)
            switch parent[last]?.value {
            case nil:
                parent[last] = TOMLNode(.array([element]), line: headerLine)
            case .array(var elements)? where known:
                elements.append(element)
                parent[last]?.value = .array(elements)
            default:
                throw failing("\(last) is already defined and is not an array of tables")
            }
        }
        tableArrays.insert(path)
    }

    mutating func insert(_ node: TOMLNode, at tablePath: [String], key: [String], line keyLine: Int) throws(TOMLParseError) {
        let failing = fail
        try Self.modify(&root, path: tablePath[...], line: keyLine, fail: failing) { (table: inout TOMLTable) throws(TOMLParseError) in
            try Self.insert(node, into: &table, key: key[...], line: keyLine, fail: failing)
        }
    }

    /// `a.b.c = v` inside `table`: the implied tables `a` and `a.b` may be extended by further
    /// dotted keys, but no key is ever defined twice.
    static func insert(_ node: TOMLNode, into table: inout TOMLTable, key: ArraySlice<String>, line: Int, fail: (String) -> TOMLParseError) throws(TOMLParseError) {
        guard let first = key.first else { return }
        if key.count == 1 {
            guard table[first] == nil else { throw fail("key \(first) is defined twice") }
            var stored = node
            if case .array(var elements) = stored.value {
                for index in elements.indices {
                    if case .table(var inner) = elements[index].value {
                        inner.isInlineArrayElement = true
                        elements[index].value = .table(inner)
                    }
                }
                stored.value = .array(elements)
            }
            table[first] = stored
            return
        }
        var child: TOMLTable
        switch table[first]?.value {
        case nil:
            child = TOMLTable()
            child.isDottedKeyTable = true
        case .table(let existing)? where existing.isDottedKeyTable:
            child = existing
        default:
            throw fail("key \(first) is defined twice")
        }
        try insert(node, into: &child, key: key.dropFirst(), line: line, fail: fail)
        table[first] = TOMLNode(.table(child), line: table[first]?.line ?? line)
    }
}
