/// Words written for a POSIX shell: what SSH runs on a host is one command line, read by the host's shell.
public enum ShellQuoting {
    /// `word` as one shell word that means exactly `word`: left as it is when it holds only characters no shell
    /// treats specially, otherwise in single quotes (a single quote written `'\''`).
    public static func quote(_ word: String) -> String {
        let plain =
            !word.isEmpty
            && word.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || "-_./=:@%+,".unicodeScalars.contains($0)
            }
        if plain { return word }
        return "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The words as one command line.
    public static func commandLine(_ words: [String]) -> String {
        words.map(quote).joined(separator: " ")
    }
}
