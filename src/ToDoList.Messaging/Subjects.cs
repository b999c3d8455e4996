namespace ToDoList.Messaging;

/// <summary>
/// Subject syntax as in NATS: tokens separated by dots; in a subscription, <c>*</c> matches one
/// token and a final <c>&gt;</c> matches one or more.
/// </summary>
public static class Subjects
{
    /// <summary>Where dead letters go: <c>deadletter.&lt;original subject&gt;</c>.</summary>
    public const string DeadLetterPrefix = "deadletter.";

    /// <summary>Where replies go: a bus's requests ask for them on <c>_INBOX.&lt;bus&gt;.&lt;request&gt;</c>.</summary>
    public const string InboxPrefix = "_INBOX.";

    public const int MaxLength = 256;

    public static string DeadLetterOf(string subject) => DeadLetterPrefix + subject;

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="subject"/> is a concrete subject to publish on.</summary>
    public static void ValidatePublish(string subject)
    {
        Validate(subject, allowWildcards: false);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="subject"/> is a valid subscription pattern.</summary>
    public static void ValidateSubscribe(string subject)
    {
        Validate(subject, allowWildcards: true);
    }

    public static bool IsValidPublish(string subject) => Check(subject, allowWildcards: false) is null;

    public static bool HasWildcards(string pattern) =>
        pattern.Contains('*') || pattern.Contains('>');

    /// <summary>True when <paramref name="subject"/> matches <paramref name="pattern"/>.</summary>
    public static bool Matches(string pattern, string subject)
    {
        var p = pattern.AsSpan();
        var s = subject.AsSpan();
        while (true)
        {
            var pEnd = p.IndexOf('.');
            var pToken = pEnd < 0 ? p : p[..pEnd];
            if (pToken is ">")
            {
                return !s.IsEmpty;
            }

            if (s.IsEmpty)
            {
                return false;
            }

            var sEnd = s.IndexOf('.');
            var sToken = sEnd < 0 ? s : s[..sEnd];
            if (pToken is not "*" && !pToken.SequenceEqual(sToken))
            {
                return false;
            }

            if (pEnd < 0 || sEnd < 0)
            {
                return pEnd < 0 && sEnd < 0;
            }

            p = p[(pEnd + 1)..];
            s = s[(sEnd + 1)..];
        }
    }

    /// <summary>True when every subject <paramref name="other"/> matches is matched by <paramref name="pattern"/> too.</summary>
    public static bool Covers(string pattern, string other)
    {
        string[] p = pattern.Split('.'), o = other.Split('.');
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] is ">")
            {
                return o.Length > i;
            }

            if (i >= o.Length || o[i] is ">" || (p[i] is not "*" && (o[i] is "*" || p[i] != o[i])))
            {
                return false;
            }
        }

        return p.Length == o.Length;
    }

    /// <summary>True when some subject matches both patterns.</summary>
    public static bool Overlap(string a, string b)
    {
        string[] x = a.Split('.'), y = b.Split('.');
        for (var i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            if (x[i] is ">" || y[i] is ">")
            {
                return true;
            }

            if (x[i] is not "*" && y[i] is not "*" && x[i] != y[i])
            {
                return false;
            }
        }

        return x.Length == y.Length;
    }

    private static void Validate(string subject, bool allowWildcards)
    {
        if (Check(subject, allowWildcards) is { } problem)
        {
            throw new ArgumentException($"Invalid subject '{subject}': {problem}.", nameof(subject));
        }
    }

    private static string? Check(string? subject, bool allowWildcards)
    {
        if (string.IsNullOrEmpty(subject))
        {
            return "it is empty";
        }

        if (subject.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        // Token by token over the string itself: this runs on every publish, so it allocates nothing.
        var rest = subject.AsSpan();
        while (true)
        {
            var dot = rest.IndexOf('.');
            var token = dot < 0 ? rest : rest[..dot];
            var last = dot < 0;
            if (token.IsEmpty)
            {
                return "a token is empty";
            }

            foreach (var c in token)
            {
                if (char.IsWhiteSpace(c) || char.IsControl(c))
                {
                    return "it contains white space or a control character";
                }
            }

            var wildcard = token is "*" or ">";
            if (!wildcard && token.IndexOfAny('*', '>') >= 0)
            {
                return "a wildcard must be a whole token";
            }

            if (wildcard && !allowWildcards)
            {
                return "wildcards are for subscriptions, not for publishing";
            }

            if (token is ">" && !last)
            {
                return "'>' must be the last token";
            }

            if (last)
            {
                break;
            }

            rest = rest[(dot + 1)..];
        }

        return null;
    }
}
