import SlipwayCore

/// `mirror:` as a canary step and as `strategy.mirror`.
extension ConfigDecoder {
    /// `{share: 50%, duration: 2m, windows: 2, failureLimit: 0, checks: [...], methods: [GET], maxBody: 64KiB}`;
    /// nil when a required key is missing or a value is rejected.
    func mirrorStep(_ entry: Entry) -> MirrorStepSpec? {
        guard case .mapping = entry.value else {
            reportExpected("a mapping like {share: 50%, duration: 2m}", entry)
            return nil
        }
        guard let fields = fields(of: entry.value, at: entry.path, schema: .mirrorStep) else { return nil }
        var valid = true
        let share = require("share", in: fields).flatMap { shareEntry -> Percentage? in
            guard let share = weight(shareEntry) else { return nil }
            guard share.basisPoints > 0 else {
                reportExpected("a share greater than 0, like 10, 50% or 100%", shareEntry)
                return nil
            }
            return share
        }
        let length = require("duration", in: fields).flatMap { self.duration($0, positive: true) }
        var spec = MirrorStepSpec(share: share ?? Percentage(basisPoints: 1), duration: length ?? .seconds(1))
        if let entry = fields["windows"] {
            if let value = integer(entry, in: 1...1000) { spec.windows = value } else { valid = false }
        }
        if let entry = fields["failureLimit"] {
            if let value = integer(entry, in: 0...1000) { spec.failureLimit = value } else { valid = false }
        }
        if let entry = fields["checks"] {
            if let value = checks(entry, allowsEmpty: false) { spec.checks = value } else { valid = false }
        }
        if let entry = fields["methods"] {
            if let value = mirrorMethods(entry) { spec.methods = value } else { valid = false }
        }
        if let entry = fields["maxBody"] {
            if let value = byteSize(entry, in: 0...(16 << 20)) { spec.maxBodyBytes = value } else { valid = false }
        }
        guard valid, share != nil, length != nil else { return nil }
        return spec
    }

    /// `methods: [GET, HEAD, POST]`: HTTP method names, upper case.
    private func mirrorMethods(_ entry: Entry) -> [String]? {
        let expectation = "a list of HTTP methods like [GET, HEAD]"
        guard let elements = list(entry, expectation: expectation) else { return nil }
        guard !elements.isEmpty else {
            reportExpected("at least one method", entry)
            return nil
        }
        var methods: [String] = []
        for (index, element) in elements.enumerated() {
            let item = Entry.element(element, at: KeyPath.element(entry.path, index))
            let isMethod: (String) -> Bool = { text in
                NameRules.isHTTPToken(text) && text == text.uppercased()
            }
            guard let method = string(item, matching: isMethod, expectation: "an upper-case HTTP method like GET")
            else { return nil }
            methods.append(method)
        }
        return methods
    }
}
