// libFuzzer target: the TOML parser is total (a TOMLParseError with a line number inside the
// input, never a trap or a runaway recursion), and every line it reports lies within the text.
import PendulumTOML

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOMLDocumentParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lineCount = text.utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
    do {
        let table = try TOMLParser.parse(text)
        func check(_ table: TOMLTable) {
            for key in table.keys {
                guard let node = table[key] else { preconditionFailure("listed key \(key) has no value") }
                precondition((1...lineCount).contains(node.line), "line \(node.line) outside 1...\(lineCount)")
                if let inner = node.table { check(inner) }
                for element in node.array ?? [] { if let inner = element.table { check(inner) } }
            }
        }
        check(table)
    } catch {
        precondition((1...lineCount).contains(error.line), "error line \(error.line) outside 1...\(lineCount)")
    }
    return 0
}
