"""The activities children can wish for: 40, each with a pictogram, the offer category it becomes, the words that
find it among the offers' titles, and its name in the nine languages the family pages speak (so a child answers
in the language they read best). "Something else" (`other`) is always last."""

from __future__ import annotations

from dataclasses import dataclass

LANGS = ("nb", "nn", "en", "sv", "ar", "so", "pl", "uk", "ti")


@dataclass(frozen=True)
class Activity:
    code: str
    pictogram: str
    category: str  # partners' OfferCategory: what an offer born from the wish is filed under
    words: tuple[str, ...]  # bokmål words that find the activity in an offer's title (lower case)
    names: dict[str, str]

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["nb"]


def _a(code, pictogram, category, words, nb, nn, en, sv, ar, so, pl, uk, ti) -> Activity:
    return Activity(code, pictogram, category, tuple(words.split()),
                    dict(zip(LANGS, (nb, nn, en, sv, ar, so, pl, uk, ti), strict=True)))


ACTIVITIES: tuple[Activity, ...] = (
    _a("football", "⚽", "sport", "fotball", "Fotball", "Fotball", "Football", "Fotboll", "كرة القدم", "Kubadda cagta",
       "Piłka nożna", "Футбол", "ኩዕሶ እግሪ"),
    _a("handball", "🤾", "sport", "håndball", "Håndball", "Handball", "Handball", "Handboll", "كرة اليد", "Kubadda gacanta",
       "Piłka ręczna", "Гандбол", "ኩዕሶ ኢድ"),
    _a("basketball", "🏀", "sport", "basket basketball", "Basketball", "Basketball", "Basketball", "Basket", "كرة السلة",
       "Kubadda koleyga", "Koszykówka", "Баскетбол", "ኩዕሶ መርበብ"),
    _a("volleyball", "🏐", "sport", "volleyball", "Volleyball", "Volleyball", "Volleyball", "Volleyboll", "الكرة الطائرة",
       "Kubadda laliska", "Siatkówka", "Волейбол", "ቮሊቦል"),
    _a("floorball", "🏑", "sport", "innebandy bandy", "Innebandy", "Innebandy", "Floorball", "Innebandy", "الفلوربول",
       "Floorball", "Unihokej", "Флорбол", "ፍሎርቦል"),
    _a("ice_hockey", "🏒", "sport", "ishockey hockey", "Ishockey", "Ishockey", "Ice hockey", "Ishockey", "هوكي الجليد",
       "Hockey barafka", "Hokej na lodzie", "Хокей", "ሆኪ በረድ"),
    _a("swimming", "🏊", "swimming", "svømming svømmekurs bading", "Svømming", "Symjing", "Swimming", "Simning", "السباحة",
       "Dabaal", "Pływanie", "Плавання", "ምሕንባስ"),
    _a("gymnastics", "🤸", "sport", "turn turning gymnastikk", "Turn", "Turn", "Gymnastics", "Gymnastik", "الجمباز",
       "Jimicsi", "Gimnastyka", "Гімнастика", "ጂምናስቲክ"),
    _a("dance", "💃", "culture", "dans dansekurs", "Dans", "Dans", "Dance", "Dans", "الرقص", "Qoob-ka-ciyaar", "Taniec",
       "Танці", "ሳዕስዒት"),
    _a("martial_arts", "🥋", "sport", "karate judo taekwondo kampsport", "Kampsport", "Kampsport", "Martial arts",
       "Kampsport", "الفنون القتالية", "Legdaruurka", "Sztuki walki", "Бойові мистецтва", "ስፖርት ምክልኻል ርእሲ"),
    _a("boxing", "🥊", "sport", "boksing", "Boksing", "Boksing", "Boxing", "Boxning", "الملاكمة", "Feeryahan", "Boks", "Бокс",
       "ቦክስ"),
    _a("climbing", "🧗", "sport", "klatring buldring", "Klatring", "Klatring", "Climbing", "Klättring", "التسلق", "Fuulid",
       "Wspinaczka", "Скелелазіння", "ምሕኳር"),
    _a("skiing", "⛷", "outdoor", "ski skiskole langrenn alpint", "Ski", "Ski", "Skiing", "Skidåkning", "التزلج",
       "Barafka ku simbiriirixasho", "Narciarstwo", "Лижі", "ስኪ"),
    _a("skating", "⛸", "sport", "skøyter skøyting", "Skøyter", "Skeiser", "Ice skating", "Skridskor", "التزلج على الجليد",
       "Ku simbiriirixashada barafka", "Łyżwiarstwo", "Ковзани", "ምንሻው ኣብ በረድ"),
    _a("cycling", "🚲", "outdoor", "sykkel sykling terrengsykkel", "Sykling", "Sykling", "Cycling", "Cykling",
       "ركوب الدراجات", "Baaskiil wadis", "Jazda na rowerze", "Велоспорт", "ብሽክለታ"),
    _a("skateboard", "🛹", "sport", "skateboard skate rullebrett", "Skateboard", "Skateboard", "Skateboarding",
       "Skateboard", "التزلج على اللوح", "Skateboard", "Deskorolka", "Скейтборд", "ስኬትቦርድ"),
    _a("tennis", "🎾", "sport", "tennis padel", "Tennis og padel", "Tennis og padel", "Tennis and padel",
       "Tennis och padel", "التنس والبادل", "Teniska iyo padel", "Tenis i padel", "Теніс і падел", "ቴኒስን ፓደልን"),
    _a("table_tennis", "🏓", "sport", "bordtennis", "Bordtennis", "Bordtennis", "Table tennis", "Bordtennis",
       "تنس الطاولة", "Teniska miiska", "Tenis stołowy", "Настільний теніс", "ቴኒስ ጠረጴዛ"),
    _a("athletics", "🏃", "sport", "friidrett løping", "Friidrett", "Friidrett", "Athletics", "Friidrott", "ألعاب القوى",
       "Orodka iyo boodboodka", "Lekkoatletyka", "Легка атлетика", "ኣትሌቲክስ"),
    _a("riding", "🐎", "outdoor", "ridning hest rideskole", "Ridning", "Riding", "Horse riding", "Ridning",
       "ركوب الخيل", "Fardo fuulis", "Jazda konna", "Верхова їзда", "ምጋልብ ፈረስ"),
    _a("fishing", "🎣", "outdoor", "fiske fisketur", "Fiske", "Fiske", "Fishing", "Fiske", "صيد السمك", "Kalluumaysi",
       "Wędkarstwo", "Риболовля", "ምግፋፍ ዓሳ"),
    _a("hiking", "🥾", "outdoor", "tur friluft friluftsliv telttur", "Tur og friluftsliv", "Tur og friluftsliv",
       "Hiking and the outdoors", "Friluftsliv", "المشي في الطبيعة", "Socod dibadda ah", "Wędrówki", "Походи",
       "ዑደት ኣብ ተፈጥሮ"),
    _a("scouts", "⛺", "outdoor", "speider speiding", "Speideren", "Speidaren", "Scouts", "Scouterna", "الكشافة",
       "Iskawtiga", "Harcerstwo", "Скаути", "ስካውት"),
    _a("sailing", "⛵", "outdoor", "seiling padling kajakk kano", "Seiling og padling", "Segling og padling",
       "Sailing and paddling", "Segling och paddling", "الإبحار والتجديف", "Doonni wadis", "Żeglarstwo i kajaki",
       "Вітрильний спорт і веслування", "ምጅላብን ምቕዛፍን"),
    _a("music", "🎸", "culture", "musikk gitar piano kulturskole", "Spille et instrument", "Spele eit instrument",
       "Playing an instrument", "Spela ett instrument", "العزف على آلة موسيقية", "Ku tumidda aalad muusig",
       "Gra na instrumencie", "Гра на інструменті", "ምጽዋት መሳርሒ ሙዚቃ"),
    _a("choir", "🎤", "culture", "kor sang", "Synge i kor", "Syngje i kor", "Singing in a choir", "Sjunga i kör",
       "الغناء في جوقة", "Heesaha kooxda", "Śpiew w chórze", "Спів у хорі", "ብጕጅለ ምዝማር"),
    _a("band", "🥁", "culture", "band korps trommer", "Band og korps", "Band og korps", "Band", "Band och orkester",
       "فرقة موسيقية", "Koox muusig", "Zespół muzyczny", "Гурт і оркестр", "ባንድ ሙዚቃ"),
    _a("theatre", "🎭", "culture", "teater drama", "Teater og drama", "Teater og drama", "Theatre and drama",
       "Teater och drama", "المسرح", "Riwaayad", "Teatr", "Театр", "ትያትር"),
    _a("art", "🎨", "culture", "kunst tegning maling", "Tegning og maling", "Teikning og måling", "Drawing and painting",
       "Teckning och målning", "الرسم", "Sawir-gacmeed", "Rysowanie i malowanie", "Малювання", "ስእሊ"),
    _a("crafts", "🧶", "culture", "håndverk søm strikking keramikk", "Håndverk og søm", "Handverk og søm",
       "Crafts and sewing", "Hantverk och sömnad", "الحرف اليدوية", "Farshaxan gacmeed", "Rękodzieło",
       "Рукоділля", "ስራሕ ኢድ"),
    _a("film", "🎬", "cinema", "film kino", "Lage film", "Lage film", "Making films", "Göra film", "صناعة الأفلام",
       "Samaynta filim", "Robienie filmów", "Знімати фільми", "ምስራሕ ፊልም"),
    _a("photo", "📷", "culture", "foto fotografering", "Foto", "Foto", "Photography", "Foto", "التصوير", "Sawir qaadis",
       "Fotografia", "Фотографія", "ስእሊ ምልዓል"),
    _a("coding", "💻", "other", "koding programmering", "Koding", "Koding", "Coding", "Programmering", "البرمجة",
       "Koodh qoris", "Programowanie", "Програмування", "ኮዲንግ"),
    _a("gaming", "🎮", "other", "e-sport esport gaming", "E-sport og spill", "E-sport og spel", "E-sports and gaming",
       "E-sport och spel", "الرياضات الإلكترونية", "Ciyaaraha elektaroonigga", "E-sport i gry", "Кіберспорт",
       "ኢ-ስፖርት"),
    _a("science", "🔬", "other", "forskning vitenskap realfag", "Forskerklubb", "Forskarklubb", "Science club",
       "Forskarklubb", "نادي العلوم", "Naadiga sayniska", "Klub naukowy", "Науковий гурток", "ክለብ ሳይንስ"),
    _a("chess", "♟", "other", "sjakk brettspill", "Sjakk og brettspill", "Sjakk og brettspel", "Chess and board games",
       "Schack och brädspel", "الشطرنج وألعاب الطاولة", "Jees iyo ciyaaraha looxa", "Szachy i gry planszowe",
       "Шахи та настільні ігри", "ቸስን ጸወታታት ሰሌዳን"),
    _a("cooking", "🍳", "other", "matlaging kokkekurs baking", "Matlaging", "Matlaging", "Cooking", "Matlagning",
       "الطبخ", "Karinta cuntada", "Gotowanie", "Кулінарія", "ምብሳል"),
    _a("animals", "🐾", "outdoor", "dyr gård stall", "Dyr og gård", "Dyr og gard", "Animals and farms",
       "Djur och bondgård", "الحيوانات والمزرعة", "Xayawaanka iyo beeraha", "Zwierzęta i gospodarstwo",
       "Тварини та ферма", "እንስሳን ሕርሻን"),
    _a("youth_club", "🏠", "other", "fritidsklubb ungdomsklubb klubb", "Fritidsklubb", "Fritidsklubb", "Youth club",
       "Fritidsgård", "نادي الشباب", "Naadiga dhallinyarada", "Klub młodzieżowy", "Молодіжний клуб", "ክለብ መንእሰያት"),
    _a("other", "❓", "other", "", "Noe annet", "Noko anna", "Something else", "Något annat", "شيء آخر", "Wax kale",
       "Coś innego", "Щось інше", "ካልእ ነገር"),
)
BY_CODE = {a.code: a for a in ACTIVITIES}
MAX_CHOICES = 5


def activity(code: str) -> Activity | None:
    return BY_CODE.get(code)
