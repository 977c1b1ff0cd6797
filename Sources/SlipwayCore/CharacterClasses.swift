extension Character {
    /// Whether this is one of `0`...`9`; `Character.isNumber` also accepts other scripts' digits and fractions.
    package var isASCIIDigit: Bool {
        ("0"..."9").contains(self)
    }
}
