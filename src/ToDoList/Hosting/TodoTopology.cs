using ToDoList.Handlers;
using ToDoList.Items;
using ToDoList.Messaging;
using ToDoList.Messaging.DeadLetters;

namespace ToDoList.Hosting;

/// <summary>
/// The app's durable groups, in one place: the handlers subscribe with them, and every role declares all of them
/// at start (web and api publish to them), so that what is posted before a handler first ran waits for it.
/// </summary>
public static class TodoTopology
{
    public static readonly Group SaveItems = new(TodoSubjects.NewItem, SaveHandler.QueueGroup);

    public static readonly Group AuditItems = new(TodoSubjects.NewItem, AuditHandler.QueueGroup);

    public static readonly Group CompleteItems = new(TodoSubjects.Complete, ItemCommandHandler.CompleteGroup);

    public static readonly Group DeleteItems = new(TodoSubjects.Delete, ItemCommandHandler.DeleteGroup);

    /// <summary>The web's dead letter store: the handlers' processes publish dead letters, maybe before a web ever ran.</summary>
    public static readonly Group DeadLetters = new(DeadLetterStore.Subject, DeadLetterStore.QueueGroup);

    public static IReadOnlyList<Group> All { get; } = [SaveItems, AuditItems, CompleteItems, DeleteItems, DeadLetters];

    /// <summary>A durable group: the subject it follows and the name its members share.</summary>
    public sealed record Group(string Subject, string Name)
    {
        /// <summary>How a handler of this group subscribes.</summary>
        public SubscribeOptions Options => new() { QueueGroup = Name, Durable = true };
    }
}
