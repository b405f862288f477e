import Foundation

extension Encodable {
    /// One line of JSON with sorted keys: what `--json` prints, stable for scripts to diff.
    func sortedJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
