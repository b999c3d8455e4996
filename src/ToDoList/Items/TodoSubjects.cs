namespace ToDoList.Items;

/// <summary>The subjects of the to-do app: <c>events.todo.*</c> for facts, <c>commands.todo.*</c> for fire-and-forget commands.</summary>
public static class TodoSubjects
{
    public const string NewItem = "events.todo.newitem";
    public const string ItemSaved = "events.todo.itemsaved";
    public const string ItemCompleted = "events.todo.itemcompleted";
    public const string ItemDeleted = "events.todo.itemdeleted";
    public const string AllEvents = "events.todo.>";

    public const string Complete = "commands.todo.complete";
    public const string Delete = "commands.todo.delete";
}
