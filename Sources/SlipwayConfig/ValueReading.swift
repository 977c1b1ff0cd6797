import SlipwayCore
import Yams

/// Readers of single values. Each returns nil, after reporting the problem, when the value is not acceptable.
extension ConfigDecoder {
    /// The phrase used for durations in messages.
    static let durationExpectation = "a duration like 250ms, 2s or 1m30s"
    /// The phrase used for addresses in messages.
    static let addressExpectation = "a host:port address like 127.0.0.1:8080"
    /// The phrase used for sizes in messages.
    static let sizeExpectation = "a size like 512KiB, 10MiB or 1MB"

    /// The text of a scalar value; numbers and booleans count as their text.
    func string(_ entry: Entry) -> String? {
        guard let text = entry.value.scalarText else {
            reportExpected("a string", entry)
            return nil
        }
        return text
    }

    /// A string accepted by `isValid`; `expectation` says what it should look like.
    func string(_ entry: Entry, matching isValid: (String) -> Bool, expectation: String) -> String? {
        guard let text = entry.value.scalarText else {
            reportExpected(expectation, entry)
            return nil
        }
        guard isValid(text) else {
            reportExpected(expectation, entry)
            return nil
        }
        return text
    }

    /// An integer within `range`; `3.5`, `"3"` and `three` are not integers.
    func integer(_ entry: Entry, in range: ClosedRange<Int>) -> Int? {
        let expectation = "an integer from \(range.lowerBound) to \(range.upperBound)"
        // Only decimal: YAML 1.1 would also read 010 as 8 and 1:30 as 90.
        guard entry.value.tagName == Tag.Name.int.rawValue, let text = entry.value.scalarText,
            text.drop(while: { $0 == "+" || $0 == "-" }).allSatisfy(\.isASCIIDigit),
            let value = Int(text), range.contains(value)
        else {
            reportExpected(expectation, entry)
            return nil
        }
        return value
    }

    /// `true` or `false`; YAML's other spellings of booleans (`yes`, `on`, …) are refused as unclear.
    func boolean(_ entry: Entry) -> Bool? {
        switch entry.value.tagName == Tag.Name.bool.rawValue ? entry.value.scalarText : nil {
        case "true": return true
        case "false": return false
        default:
            reportExpected("true or false", entry)
            return nil
        }
    }

    /// A duration; when `positive`, zero is refused too.
    func duration(_ entry: Entry, positive: Bool) -> Duration? {
        guard let text = entry.value.scalarText else {
            reportExpected(Self.durationExpectation, entry)
            return nil
        }
        if text.hasPrefix("-") {
            report(entry.value.location, entry.path, "durations cannot be negative, got \(text)")
            return nil
        }
        guard let duration = DurationText.parse(text) else {
            if let (_, rest) = DecimalNumber.prefix(of: Substring(text)), rest.isEmpty {
                reportExpected(Self.durationExpectation, entry, hint: "did you mean `\(text)s`?")
            } else {
                reportExpected(Self.durationExpectation, entry)
            }
            return nil
        }
        if positive && duration == .zero {
            reportExpected("a duration greater than 0", entry)
            return nil
        }
        return duration
    }

    /// A `host:port` address.
    func hostPort(_ entry: Entry) -> HostPort? {
        guard let text = entry.value.scalarText else {
            reportExpected(Self.addressExpectation, entry)
            return nil
        }
        switch HostPort.parseOrExplain(text) {
        case .success(let address):
            return address
        case .failure(let problem):
            reportExpected(Self.addressExpectation, entry, hint: problem.explanation)
            return nil
        }
    }

    /// A size in bytes within `range`, written as a plain number or with a unit.
    func byteSize(_ entry: Entry, in range: ClosedRange<Int>) -> Int? {
        guard let text = entry.value.scalarText, let bytes = ByteSize.parse(text) else {
            reportExpected(Self.sizeExpectation, entry)
            return nil
        }
        guard range.contains(bytes) else {
            let bounds = "\(ByteSize.format(range.lowerBound)) to \(ByteSize.format(range.upperBound))"
            reportExpected("a size from \(bounds)", entry)
            return nil
        }
        return bytes
    }

    /// The elements of a list.
    func list(_ entry: Entry, expectation: String = "a list") -> [Node]? {
        guard case .sequence(let sequence) = entry.value else {
            reportExpected(expectation, entry)
            return nil
        }
        return Array(sequence)
    }

    /// A path, made absolute against the directory of the configuration file.
    func path(_ entry: Entry) -> String? {
        guard let text = entry.value.scalarText, !text.isEmpty else {
            reportExpected("a path", entry)
            return nil
        }
        return PathResolution.absolute(text, base: baseDirectory)
    }
}
