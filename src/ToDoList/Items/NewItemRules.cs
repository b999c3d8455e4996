namespace ToDoList.Items;

/// <summary>What makes an item text valid, the same at every edge (API, web form, save handler).</summary>
public static class NewItemRules
{
    public const int MaxLength = 256;

    /// <summary>Null when valid, else why not, in a sentence a user can act on.</summary>
    public static string? Check(string? item) => item switch
    {
        null => "'item' is required.",
        _ when string.IsNullOrWhiteSpace(item) => "'item' must not be empty or blank.",
        { Length: > MaxLength } => $"'item' must be at most {MaxLength} characters.",
        // PostgreSQL text cannot hold NUL; refused at every edge alike, whatever the database.
        _ when item.Contains('\0') => "'item' must not contain the NUL character.",
        _ => null,
    };
}
