import PendulumTOML
import Testing

@Suite struct TOMLParserTests {
    func failure(_ text: String) -> TOMLParseError? {
        do {
            _ = try TOMLParser.parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesTheConfigurationSubset() throws {
        let text = """
            # comment
            title = "a \\"quoted\\" \\u00e9 string" # trailing comment
            literal = 'C:\\path'
            count = 1_000
            negative = -17
            hex = 0xff
            octal = 0o17
            binary = 0b101
            ratio = 0.25
            tiny = 1e-6
            big = -2.5E+3
            infinite = -inf
            yes = true
            "quoted key" = 1
            dotted.inner = "x"
            list = [1, 2,
              3, # comment inside
            ]
            inline = { a = 1, b = "two" }

            [table]
            key = "value"

            [[items]]
            name = "first"
            [[items]]
            name = "second"
            [items.detail]
            depth = 2
            """
        let table = try TOMLParser.parse(text)
        #expect(table["title"]?.string == "a \"quoted\" é string")
        #expect(table["title"]?.line == 2)
        #expect(table["literal"]?.string == "C:\\path")
        #expect(table["count"]?.integer == 1000)
        #expect(table["negative"]?.integer == -17)
        #expect(table["hex"]?.integer == 255)
        #expect(table["octal"]?.integer == 15)
        #expect(table["binary"]?.integer == 5)
        #expect(table["ratio"]?.double == 0.25)
        #expect(table["tiny"]?.double == 1e-6)
        #expect(table["big"]?.double == -2500)
        #expect(table["infinite"]?.double == -.infinity)
        #expect(table["count"]?.double == 1000)  // integers read as numbers too
        #expect(table["yes"]?.bool == true)
        #expect(table["quoted key"]?.integer == 1)
        #expect(table["dotted"]?.table?["inner"]?.string == "x")
        #expect(table["list"]?.array?.compactMap(\.integer) == [1, 2, 3])
        #expect(table["inline"]?.table?["b"]?.string == "two")
        #expect(table["table"]?.table?["key"]?.string == "value")
        #expect(table["table"]?.table?["key"]?.line == 22)
        let items = try #require(table["items"]?.array)
        #expect(items.compactMap { $0.table?["name"]?.string } == ["first", "second"])
        #expect(items.last?.table?["detail"]?.table?["depth"]?.integer == 2)
        #expect(table.keys.prefix(3) == ["title", "literal", "count"])
    }

    @Test func malformedInputIsATypedErrorWithItsLine() throws {
        // A lone "[" aborted TOMLKit (toml++) in debug builds: the reason this parser exists.
        #expect(failure("[\n")?.line == 1)
        #expect(failure("a = 1\n[\n")?.line == 2)
        #expect(failure("a = \n")?.line == 1)
        #expect(failure("a = 1\nb = \"open\n")?.message.contains("unterminated string") == true)
        #expect(failure("a = 1\na = 2\n")?.message.contains("defined twice") == true)
        #expect(failure("[t]\n[t]\n")?.message.contains("defined twice") == true)
        #expect(failure("a = 1\n[a]\n")?.message.contains("not a table") == true)
        #expect(failure("a = [1, 2\n")?.message.contains("unterminated array") == true)
        #expect(failure("a = { b = 1\n")?.message.contains("inline table") == true)
        #expect(failure("a = 007\n")?.line == 1)
        #expect(failure("a = 1__0\n") != nil)
        #expect(failure("a = 1.\n") != nil)
        #expect(failure("a = .5\n") != nil)
        #expect(failure("a = 0x\n") != nil)
        #expect(failure("a = 99999999999999999999\n") != nil)
        #expect(failure("a = bare\n")?.message.contains("strings need quotes") == true)
        #expect(failure("a = 1979-05-27\n")?.message.contains("dates") == true)
        #expect(failure("a = 07:32:00\n")?.message.contains("dates") == true)
        #expect(failure("a = \"\"\"x\"\"\"\n")?.message.contains("multi-line") == true)
        #expect(failure("a = \"\\q\"\n")?.message.contains("unknown escape") == true)
        #expect(failure("a = \"\\uD800\"\n")?.message.contains("Unicode scalar") == true)
        #expect(failure("a = 1 b = 2\n")?.message.contains("end of the line") == true)
        #expect(failure("= 1\n")?.message.contains("expected a key") == true)
        #expect(failure("[[a]]\n[a]\n") != nil)
        #expect(failure("a = [{b = 1}]\n[[a]]\n") != nil)
        #expect(failure("a = \"tab\u{01}\"\n")?.message.contains("control character") == true)
    }

    @Test func deepNestingIsRefusedNotRecursedIntoWithoutBound() throws {
        let deep = "a = " + String(repeating: "[", count: 10_000) + "\n"
        #expect(failure(deep)?.message.contains("nested more than") == true)
        let fine = "a = " + String(repeating: "[", count: 10) + String(repeating: "]", count: 10) + "\n"
        #expect(failure(fine) == nil)
    }

    @Test func emptyAndCommentOnlyDocumentsAreEmptyTables() throws {
        #expect(try TOMLParser.parse("").keys.isEmpty)
        #expect(try TOMLParser.parse("# nothing\n\n   \n").keys.isEmpty)
        #expect(try TOMLParser.parse("a = 1\r\nb = 2\r\n")["b"]?.integer == 2)
    }
}
