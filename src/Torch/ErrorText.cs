namespace Orleans.MoE.Torch;

/// <summary>
/// An exception's message as a user should read it: without the decorations .NET adds to argument
/// errors (" (Parameter 'x')", "Actual value was 0."), and, when it is wrapped by an error that
/// names the same file, without that file's path a second time.
/// </summary>
public static class ErrorText
{
    public static string Of(Exception e)
    {
        var message = e.Message;
        if (e is ArgumentOutOfRangeException { ActualValue: { } actual })
            message = message.Replace(Environment.NewLine + $"Actual value was {actual}.", "", StringComparison.Ordinal);
        if (e is ArgumentException { ParamName: { Length: > 0 } name })
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        return message;
    }

    /// <summary>The message of <paramref name="e"/> with a leading "<paramref name="path"/>: " removed, for a wrapper that names the path itself.</summary>
    public static string ProblemOf(Exception e, string path)
    {
        var message = Of(e);
        var prefix = path + ": ";
        return message.StartsWith(prefix, StringComparison.Ordinal) ? message[prefix.Length..] : message;
    }
}
