using Microsoft.EntityFrameworkCore;
using ToDoList.Items;

namespace ToDoList.Data;

public sealed class ToDoDbContext(DbContextOptions<ToDoDbContext> options) : DbContext(options)
{
    public DbSet<TodoItem> Items => Set<TodoItem>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TodoItem>(item =>
        {
            item.ToTable("ToDoItems");
            item.Property(i => i.Item).HasMaxLength(NewItemRules.MaxLength);
            item.Property(i => i.EventId).HasMaxLength(128);
            item.HasIndex(i => i.EventId).IsUnique();
        });

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.Property(e => e.EventId).HasMaxLength(128);
            entry.Property(e => e.Subject).HasMaxLength(256);
            entry.Property(e => e.Item).HasMaxLength(NewItemRules.MaxLength);
            entry.Property(e => e.Source).HasMaxLength(256);
            entry.HasIndex(e => e.EventId).IsUnique();
        });
    }

    /// <summary>True when saving failed only because the row's event id is already stored.</summary>
    public static bool IsDuplicate(DbUpdateException exception) =>
        exception.InnerException?.Message.Contains("UNIQUE", StringComparison.OrdinalIgnoreCase) == true
        || exception.InnerException?.Message.Contains("duplicate key", StringComparison.OrdinalIgnoreCase) == true;
}
