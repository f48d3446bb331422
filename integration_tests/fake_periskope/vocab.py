"""Word lists for realistic-looking generated values (an Indian SMB using WhatsApp)."""

FIRST_NAMES = (
    "Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Ayaan", "Krishna", "Ishaan",
    "Ananya", "Diya", "Aadhya", "Saanvi", "Pari", "Anika", "Navya", "Myra", "Sara", "Riya",
    "Rahul", "Priya", "Neha", "Rohan", "Kavya", "Meera", "Nikhil", "Pooja", "Sneha", "Vikram",
    "Fatima", "Imran", "Zoya", "Kabir", "Tara", "Dev", "Nisha", "Arnav", "Ishita", "Manish",
)
LAST_NAMES = (
    "Sharma", "Verma", "Gupta", "Patel", "Reddy", "Iyer", "Nair", "Singh", "Kumar", "Das",
    "Mehta", "Shah", "Joshi", "Rao", "Khan", "Bose", "Chopra", "Kapoor", "Malhotra", "Menon",
)
BUSINESS_NAMES = (
    "Periskope Sales", "Razorpay Support", "BlueDart Courier", "HDFC Bank", "Swiggy Partner",
    "Zomato Business", "Delhivery", "Tata Cliq", "Urban Company", "Apollo Pharmacy",
    "Nykaa Care", "Ola Fleet", "Paytm Merchant", "Shiprocket", "Freshworks Desk",
)
GROUP_WORDS = (
    "Ops", "Sales", "Support", "Delivery", "Vendors", "Pune", "Mumbai", "Delhi NCR", "Bangalore",
    "Onboarding", "Escalations", "Weekly Sync", "Partners", "Dispatch", "Returns", "Finance",
    "Customer Success", "Launch", "Warehouse", "Field Team",
)
GROUP_SUFFIXES = ("Team", "Group", "Hub", "Squad", "Updates", "Alerts", "Coordination", "2025")

MESSAGE_TEMPLATES = (
    "Hi {name}, your order #{order} has been shipped.",
    "Thanks for reaching out! An agent will get back to you shortly.",
    "Can you share the invoice for order {order}?",
    "Payment of Rs {amount} received. Thank you!",
    "Please find the tracking link: {url}",
    "Is the delivery scheduled for tomorrow?",
    "Hello {name}, how can we help you today?",
    "The pickup is confirmed for {date}.",
    "We have raised a ticket for this. Reference {order}.",
    "ok",
    "Thank you 🙏",
    "👍",
    "Noted, will update by EOD.",
    "Can we get on a quick call?",
    "Meeting moved to 4 pm.",
    "Refund of Rs {amount} initiated, it will reflect in 5-7 working days.",
    "Sharing the brochure here: {url}",
    "Please confirm your address: {name}, {city}",
    "Stock for SKU {order} is low, please reorder.",
    "Good morning team! Targets for today attached.",
    "Driver is 10 mins away.",
    "Could you resend the OTP?",
    "Your appointment is confirmed for {date} at 11:30 AM.",
    "Price list updated, check {url}",
    "Hi, I want to cancel my order {order}",
    "Sure, done ✅",
    "Any update on this?",
    "Escalating to the {city} team.",
    "New lead: {name}, interested in the premium plan.",
    "Welcome to the group, {name}!",
)
CAPTIONS = (
    "Invoice attached", "Photo of the damaged package", "Delivery proof", "Catalogue 2025",
    "Screenshot of the error", "Signed agreement", None, None,
)
CITIES = ("Pune", "Mumbai", "Delhi", "Bengaluru", "Chennai", "Hyderabad", "Kolkata", "Jaipur")
URL_HOSTS = ("https://track.example.in/o/", "https://docs.example.com/d/", "https://shop.example.in/p/")
NOTE_TEMPLATES = (
    "Customer is a repeat buyer, offer 10% off.",
    "Called back, no answer. Try again tomorrow.",
    "Escalated to {agent}.",
    "VIP account - handle with priority.",
    "Waiting for payment confirmation.",
    "Shared the revised quote.",
    "@{agent} can you take this one?",
    "Refund approved by finance.",
    "testing with a new note payload",
    "Follow up after the demo on {date}.",
)
TICKET_SUBJECTS = (
    "Issue with this", "Another ticket", "Refund not received", "Order delayed", "Wrong item delivered",
    "Payment failed", "Need invoice copy", "Change delivery address", "Damaged package",
    "Account login problem", "Bulk order enquiry", "Cancel subscription", "Feature request",
    "Pricing query", "Courier did not arrive",
)
EMOJIS = ("👍", "❤️", "😂", "😮", "😢", "🙏", "🔥", "✅", "🎉", "👏")
LABEL_NAMES = (
    "vip", "lead", "follow-up", "refund", "priority", "new-customer", "b2b", "escalated",
    "pending-payment", "resolved", "partner", "spam",
)
# TYPES enum_chat_colors (a subset of the 15 values; the three SEEN ones first).
CONTACT_COLORS = (
    "#B4876E", "#DC2626", "#7D9EF1", "#2563EB", "#16A34A", "#CA8A04", "#9333EA", "#DB2777",
    "#0891B2", "#EA580C", "#4B5563", "#65A30D", "#0D9488", "#7C3AED", "#E11D48",
)
AGENT_FIRST_NAMES = ("bharat", "ananya", "rohit", "sana", "vikram", "meera")
PHONE_NAMES = ("Support", "Sales", "Operations", "Billing", "Marketing")
MEDIA_KINDS = {
    # message_type: (mimetype, extension)
    "image": ("image/jpeg", "jpg"),
    "video": ("video/mp4", "mp4"),
    "audio": ("audio/mpeg", "mp3"),
    "ptt": ("audio/ogg; codecs=opus", "ogg"),
    "document": ("application/pdf", "pdf"),
    "sticker": ("image/webp", "webp"),
}
# (message_type, weight): chat dominates, as in real WhatsApp traffic.
MESSAGE_TYPE_WEIGHTS = (
    ("chat", 62), ("image", 10), ("video", 4), ("audio", 3), ("ptt", 6), ("document", 6),
    ("sticker", 3), ("location", 2), ("vcard", 2), ("poll_creation", 2),
)
MESSAGE_TYPE_TABLE = tuple(kind for kind, weight in MESSAGE_TYPE_WEIGHTS for _ in range(weight))
GROUP_NOTIFICATION_TYPES = (
    "add", "add", "add", "remove", "remove", "leave", "promote", "demote", "subject", "desc",
    "announce", "restrict",
)
