import PendulumNTPServer

extension ServerCounters {
    /// The counters as `pendulum status --json` and the metrics name them: every class, zeros
    /// included, so a dashboard sees a class before its first packet.
    var observationCounters: [String: Int] {
        var result = ["responded": responded, "responded_nts": respondedNTS, "responded_interleaved": respondedInterleaved, "nts_nak": ntsNaks]
        for code in KissCode.allCases { result["kiss_\(code.rawValue.lowercased())"] = self[kiss: code] }
        for reason in ServerDropReason.allCases { result["drop_\(Self.snakeCase(reason.rawValue))"] = self[reason] }
        return result
    }

    /// "wrongMode" → "wrong_mode".
    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
